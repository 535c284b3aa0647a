"""The verifier checks the ledger's voucher codes by the till contract, with a Luhn
check of its own: a ledger answering with a code that fails it fails the verification
at the sale. (A ledger that misbehaves cannot be reached from here, so a stand-in
answers the one call.)"""

from __future__ import annotations

import httpx
import pytest

from flows.verification import CallResult, VerificationFailed, verify_store

CARD_RANGE = "63011900"
# A code of that range with a right Luhn check digit (the till sandbox's example).
GOOD_CODE = "6301190077892477377"


def till_selling(code: str) -> httpx.Client:
    """A till API that answers a sale with ``code`` and refuses anything else."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/vouchers":
            sale = {
                "code": code,
                "balance": 1000,
                "currency": "GBP",
                "status": "active",
                "expires_at": None,
                "transaction_id": "t-1",
            }
            return httpx.Response(201, json=sale)
        return httpx.Response(404, json={"code": "not_found"})

    return httpx.Client(base_url="http://till.test", transport=httpx.MockTransport(answer))


def verify(code: str) -> None:
    results: list[CallResult] = []
    with till_selling(code) as till:
        verify_store(
            till,
            site="The Lamb",
            store_id="PLR-100",
            product_id=1,
            card_range=CARD_RANGE,
            reference_prefix="verify",
            results=results,
        )


def test_a_sold_code_with_a_wrong_check_digit_fails_the_sale() -> None:
    good = GOOD_CODE
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(VerificationFailed, match="Luhn check digit") as failed:
        verify(wrong)
    assert failed.value.call == "sell test voucher"


def test_a_well_formed_code_passes_the_sale_check() -> None:
    # The stand-in answers nothing after the sale: the verifier gets past the sale's
    # checks and fails at the balance check instead.
    with pytest.raises(VerificationFailed) as failed:
        verify(GOOD_CODE)
    assert failed.value.call == "check balance"
