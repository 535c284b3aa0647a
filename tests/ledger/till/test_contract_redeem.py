"""Redeem (POST /v1/vouchers/{code}/redeem)."""

from __future__ import annotations

from api.core.config import Settings
from harness.factories import Merchant
from tests.ledger.till.contract import (
    MOVEMENT_FIELDS,
    add_product,
    assert_ledger,
    balance_of,
    created,
    expire,
    ok,
    problem,
)


def test_redeem_takes_the_amount_and_answers_every_field(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    body = created(merchant.redeem(code, 1200))
    assert body.keys() == MOVEMENT_FIELDS
    assert body["amount"] == 1200
    assert body["balance"] == 3800
    assert body["currency"] == "GBP"
    assert balance_of(merchant, code) == 3800
    # Redeemed at the second store: recorded against that store's site.
    second = created(merchant.redeem(code, 800, store_id=merchant.store_ids[1]))
    assert second["balance"] == 3000
    # The exact balance: all of it, and the voucher is spent.
    last = created(merchant.redeem(code, 3000))
    assert (last["amount"], last["balance"]) == (3000, 0)
    assert ok(merchant.balance(code))["status"] == "spent"

    kinds = ["sale", "redemption", "redemption", "redemption"]
    entries = assert_ledger(merchant, code, balance=0, kinds=kinds)
    assert [e["amount"] for e in entries] == [5000, -1200, -800, -3000]
    assert entries[1]["transaction_id"] == body["transaction_id"]
    assert entries[1]["site_id"] == merchant.site_ids[0]
    assert entries[2]["site_id"] == merchant.site_ids[1]


def test_not_enough_balance_and_allow_partial(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    # Without allow_partial (omitted or false): refused, with the balance; nothing taken.
    for extra in ({}, {"allow_partial": False}):
        refusal = problem(merchant.redeem(code, 5001, **extra), 409, "insufficient_funds")
        assert refusal["balance"] == 5000
    assert balance_of(merchant, code) == 5000
    assert_ledger(merchant, code, balance=5000, kinds=["sale"])

    # allow_partial with enough on the voucher: the whole amount.
    body = created(merchant.redeem(code, 1000, allow_partial=True))
    assert (body["amount"], body["balance"]) == (1000, 4000)
    # Not enough: min(amount, balance).
    body = created(merchant.redeem(code, 9000, allow_partial=True))
    assert (body["amount"], body["balance"]) == (4000, 0)
    assert ok(merchant.balance(code))["status"] == "spent"
    kinds = ["sale", "redemption", "redemption"]
    entries = assert_ledger(merchant, code, balance=0, kinds=kinds)
    assert [e["amount"] for e in entries] == [5000, -1000, -4000]

    # Nothing left: insufficient_funds either way.
    for allow_partial in (True, False):
        refusal = problem(
            merchant.redeem(code, 100, allow_partial=allow_partial), 409, "insufficient_funds"
        )
        assert refusal["balance"] == 0
    assert_ledger(merchant, code, balance=0, kinds=kinds)


def test_expired_or_cancelled_vouchers_cannot_be_redeemed(
    merchant: Merchant, settings: Settings
) -> None:
    product_id = add_product(merchant, validity_days=365)
    code = created(merchant.sell(3000, product_id=product_id))["code"]
    created(merchant.redeem(code, 1000))  # fine before it expires
    expire(settings, code)
    for allow_partial in (False, True):
        problem(merchant.redeem(code, 500, allow_partial=allow_partial), 409, "voucher_expired")
    assert_ledger(merchant, code, balance=2000, kinds=["sale", "redemption"])

    sale = created(merchant.sell(3000))
    created(merchant.reverse(sale["code"], sale["transaction_id"]))
    for allow_partial in (False, True):
        problem(
            merchant.redeem(sale["code"], 500, allow_partial=allow_partial),
            409,
            "voucher_cancelled",
        )
    assert_ledger(merchant, sale["code"], balance=0, kinds=["sale", "reversal"])
