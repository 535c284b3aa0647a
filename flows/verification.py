"""Verify a store's integration exactly as a till would, over HTTP, checking every
answer against the till contract (shared/till-api.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

# The ledger's own Luhn code is not used here: the verifier checks the ledger's codes
# independently of it, as a till would.
from stdnum import luhn

from contract.vouchers import CODE_LENGTH

TEST_AMOUNT = 1000
TEST_REDEMPTION = 400


@dataclass(frozen=True)
class CallResult:
    site: str
    call: str
    outcome: str
    millis: int

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class VerificationFailed(Exception):
    def __init__(self, site: str, call: str, detail: str) -> None:
        super().__init__(f"verification failed at {site}, call '{call}': {detail}")
        self.site, self.call, self.detail = site, call, detail


class _Contract(Exception):
    """An answer that breaks the contract (internal: becomes VerificationFailed)."""


def verify_store(
    till: httpx.Client,
    *,
    site: str,
    store_id: str,
    product_id: int,
    card_range: str,
    reference_prefix: str,
    results: list[CallResult],
) -> None:
    """sell, check balance, redeem, reverse, redeem again and void that by its reference
    (as a till that timed out would), check again, then cancel the test voucher.

    Appends one result per call to ``results``; raises VerificationFailed (after
    recording the failing call) on the first answer that breaks the contract.
    """

    def step(
        call: str, send: Callable[[], httpx.Response], expect: Callable[[Any], None], status: int
    ) -> Any:
        started = time.perf_counter()
        try:
            response = send()
            millis = round((time.perf_counter() - started) * 1000)
            if response.status_code != status:
                raise _Contract(
                    f"expected HTTP {status}, got {response.status_code}: {response.text[:300]}"
                )
            body = response.json()
            expect(body)
        except (_Contract, httpx.HTTPError, ValueError) as error:
            millis = round((time.perf_counter() - started) * 1000)
            results.append(CallResult(site, call, f"failed: {error}", millis))
            raise VerificationFailed(site, call, str(error)) from None
        results.append(CallResult(site, call, "ok", millis))
        return body

    def ref(name: str) -> str:
        return f"{reference_prefix}-{name}"

    sale = step(
        "sell test voucher",
        lambda: till.post(
            "/v1/vouchers",
            json={
                "store_id": store_id,
                "product_id": product_id,
                "amount": TEST_AMOUNT,
                "reference": ref("sell"),
            },
        ),
        lambda b: _check_sale(b, card_range),
        201,
    )
    code = sale["code"]
    step(
        "check balance",
        lambda: till.get(f"/v1/vouchers/{code}", params={"store_id": store_id}),
        lambda b: _check_voucher(b, code, TEST_AMOUNT, "active"),
        200,
    )
    redemption = step(
        "redeem",
        lambda: till.post(
            f"/v1/vouchers/{code}/redeem",
            json={"store_id": store_id, "amount": TEST_REDEMPTION, "reference": ref("redeem")},
        ),
        lambda b: _check_movement(b, TEST_REDEMPTION, TEST_AMOUNT - TEST_REDEMPTION),
        201,
    )
    step(
        "reverse redemption",
        lambda: till.post(
            f"/v1/vouchers/{code}/reverse",
            json={
                "store_id": store_id,
                "transaction_id": redemption["transaction_id"],
                "reference": ref("reverse"),
            },
        ),
        lambda b: _check_reversal(b, redemption["transaction_id"], TEST_REDEMPTION, TEST_AMOUNT),
        201,
    )
    to_void = step(
        "redeem to void",
        lambda: till.post(
            f"/v1/vouchers/{code}/redeem",
            json={"store_id": store_id, "amount": TEST_REDEMPTION, "reference": ref("redeem-2")},
        ),
        lambda b: _check_movement(b, TEST_REDEMPTION, TEST_AMOUNT - TEST_REDEMPTION),
        201,
    )
    step(
        "void redemption by reference",
        lambda: till.post(
            "/v1/reversals",
            json={
                "store_id": store_id,
                "original_reference": ref("redeem-2"),
                "reference": ref("void"),
            },
        ),
        lambda b: _check_void(b, to_void["transaction_id"], code),
        201,
    )
    step(
        "check balance again",
        lambda: till.get(f"/v1/vouchers/{code}", params={"store_id": store_id}),
        lambda b: _check_voucher(b, code, TEST_AMOUNT, "active"),
        200,
    )
    step(
        "cancel test voucher",
        lambda: till.post(
            f"/v1/vouchers/{code}/reverse",
            json={
                "store_id": store_id,
                "transaction_id": sale["transaction_id"],
                "reference": ref("cancel"),
            },
        ),
        lambda b: _check_reversal(b, sale["transaction_id"], TEST_AMOUNT, 0),
        201,
    )
    step(
        "check cancelled",
        lambda: till.get(f"/v1/vouchers/{code}", params={"store_id": store_id}),
        lambda b: _check_voucher(b, code, 0, "cancelled"),
        200,
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _Contract(message)


def _check_fields(body: Any, fields: set[str]) -> None:
    _require(isinstance(body, dict), "the answer is not a JSON object")
    missing = fields - set(body)
    _require(not missing, f"fields missing from the answer: {sorted(missing)}")


def _check_voucher(body: Any, code: str, balance: int, status: str) -> None:
    _check_fields(body, {"code", "balance", "currency", "status", "expires_at"})
    _require(body["code"] == code, "the answer names another voucher")
    _require(
        type(body["balance"]) is int and body["balance"] == balance,
        f"balance {body['balance']!r}, expected {balance}",
    )
    _require(body["status"] == status, f"status {body['status']!r}, expected {status!r}")
    _require(
        isinstance(body["currency"], str) and len(body["currency"]) == 3,
        "currency is not an ISO 4217 code",
    )


def _check_sale(body: Any, card_range: str) -> None:
    _check_fields(body, {"code", "balance", "currency", "status", "expires_at", "transaction_id"})
    code = body["code"]
    _require(
        isinstance(code, str)
        and len(code) == CODE_LENGTH
        and code.isdigit()
        and code.startswith(card_range)
        and luhn.is_valid(code),
        f"the voucher code is not a {CODE_LENGTH}-digit card number in the account's range "
        "with a Luhn check digit",
    )
    _check_voucher(body, code, TEST_AMOUNT, "active")


def _check_movement(body: Any, amount: int, balance: int) -> None:
    _check_fields(body, {"transaction_id", "amount", "balance", "currency"})
    _require(body["amount"] == amount, f"amount {body['amount']!r}, expected {amount}")
    _require(body["balance"] == balance, f"balance {body['balance']!r}, expected {balance}")


def _check_reversal(body: Any, reversed_id: str, amount: int, balance: int) -> None:
    _check_movement(body, amount, balance)
    _check_fields(body, {"reversed_transaction_id"})
    _require(
        body["reversed_transaction_id"] == reversed_id, "the reversal names another transaction"
    )


def _check_void(body: Any, reversed_id: str, code: str) -> None:
    _check_reversal(body, reversed_id, TEST_REDEMPTION, TEST_AMOUNT)
    _check_fields(body, {"code"})
    _require(body["code"] == code, "the void names another voucher")
