"""Sell a voucher at the till (POST /v1/vouchers)."""

from __future__ import annotations

import httpx

from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import (
    DEFAULT_CARD_RANGE,
    VOUCHER_FIELDS,
    add_product,
    assert_ledger,
    created,
    luhn_valid,
    ok,
    problem,
)


def test_sale_answers_every_field_and_records_the_store(merchant: Merchant) -> None:
    body = created(merchant.sell(5000))
    assert body.keys() == VOUCHER_FIELDS | {"transaction_id"}
    code = body["code"]
    assert len(code) == 19 and code.startswith(DEFAULT_CARD_RANGE) and luhn_valid(code)
    assert body["balance"] == 5000
    assert body["currency"] == "GBP"
    assert body["status"] == "active"
    assert body["expires_at"] is None
    assert isinstance(body["transaction_id"], str) and body["transaction_id"]

    [entry] = assert_ledger(merchant, code, balance=5000, kinds=["sale"])
    assert entry["transaction_id"] == body["transaction_id"]
    assert entry["amount"] == 5000
    assert entry["site_id"] == merchant.site_ids[0]

    # Sold at the second store: recorded against that store's site.
    second = created(merchant.sell(1500, store_id=merchant.store_ids[1]))
    [entry] = assert_ledger(merchant, second["code"], balance=1500, kinds=["sale"])
    assert entry["site_id"] == merchant.site_ids[1]
    assert second["code"] != code
    assert second["transaction_id"] != body["transaction_id"]
    # What the sale said is what a balance check says.
    assert ok(merchant.balance(code)) == {k: v for k, v in body.items() if k in VOUCHER_FIELDS}
    # The smallest and largest amounts the contract allows.
    assert created(merchant.sell(1))["balance"] == 1
    assert created(merchant.sell(100_000_000))["balance"] == 100_000_000


def test_product_must_be_an_in_store_product_of_this_account(
    merchant: Merchant, other: Merchant
) -> None:
    online_only = add_product(merchant, in_store=False)
    for product_id in (999_999, other.product_id, online_only):
        problem(merchant.sell(1000, product_id=product_id), 404, "product_not_found")
    # The other account sells its own product; ours is not its.
    created(other.sell(1000))
    problem(other.sell(1000, product_id=merchant.product_id), 404, "product_not_found")
    # An in-store product added later sells.
    extra = add_product(merchant, in_store=True)
    created(merchant.sell(1000, product_id=extra))


def test_sale_above_the_accounts_balance_cap_is_refused(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    capped = make_merchant(ledger, admin, balance_cap=10_000)
    try:
        problem(capped.sell(10_001), 409, "balance_limit_exceeded")
        # At the cap is fine.
        sale = created(capped.sell(10_000))
        assert sale["balance"] == 10_000
    finally:
        capped.close()
