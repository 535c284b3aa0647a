"""Top up (POST /v1/vouchers/{code}/load)."""

from __future__ import annotations

import httpx

from api.core.config import Settings
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import (
    MOVEMENT_FIELDS,
    add_product,
    assert_ledger,
    created,
    expire,
    ok,
    problem,
)


def test_load_adds_value_to_active_and_spent_vouchers(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    body = created(merchant.load(code, 2500))
    assert body.keys() == MOVEMENT_FIELDS
    assert (body["amount"], body["balance"], body["currency"]) == (2500, 7500, "GBP")
    assert ok(merchant.balance(code))["balance"] == 7500

    # Spent (a card swiped at the till), then topped up at the second store.
    created(merchant.redeem(code, 7500))
    assert ok(merchant.balance(code))["status"] == "spent"
    again = created(merchant.load(code, 600, store_id=merchant.store_ids[1]))
    assert (again["amount"], again["balance"]) == (600, 600)
    state = ok(merchant.balance(code))
    assert (state["status"], state["balance"]) == ("active", 600)

    kinds = ["sale", "load", "redemption", "load"]
    entries = assert_ledger(merchant, code, balance=600, kinds=kinds)
    assert entries[1]["transaction_id"] == body["transaction_id"]
    assert [e["amount"] for e in entries] == [5000, 2500, -7500, 600]
    assert entries[1]["site_id"] == merchant.site_ids[0]
    assert entries[3]["site_id"] == merchant.site_ids[1]


def test_load_beyond_the_balance_cap_is_refused(ledger: LedgerServer, admin: httpx.Client) -> None:
    capped = make_merchant(ledger, admin, balance_cap=10_000)
    try:
        code = capped.sold_code(8000)
        problem(capped.load(code, 2001), 409, "balance_limit_exceeded")
        assert_ledger(capped, code, balance=8000, kinds=["sale"])
        # Up to the cap is fine; then not a penny more.
        assert created(capped.load(code, 2000))["balance"] == 10_000
        problem(capped.load(code, 1), 409, "balance_limit_exceeded")
        # Spending makes room again.
        created(capped.redeem(code, 500))
        assert created(capped.load(code, 500))["balance"] == 10_000
        assert_ledger(capped, code, balance=10_000, kinds=["sale", "load", "redemption", "load"])
    finally:
        capped.close()


def test_expired_or_cancelled_vouchers_cannot_be_loaded(
    merchant: Merchant, settings: Settings
) -> None:
    product_id = add_product(merchant, validity_days=90)
    code = created(merchant.sell(3000, product_id=product_id))["code"]
    expire(settings, code)
    problem(merchant.load(code, 500), 409, "voucher_expired")
    assert_ledger(merchant, code, balance=3000, kinds=["sale"])

    sale = created(merchant.sell(3000))
    created(merchant.reverse(sale["code"], sale["transaction_id"]))
    problem(merchant.load(sale["code"], 500), 409, "voucher_cancelled")
    assert_ledger(merchant, sale["code"], balance=0, kinds=["sale", "reversal"])
