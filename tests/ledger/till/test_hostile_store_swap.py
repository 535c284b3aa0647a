"""A reference is unique per merchant account and the store ID the till sent
(till-api.md, Idempotency): a retry is a replay whatever site that store ID maps to
now, so swapping two sites' store IDs between a request and its retry moves no money
a second time."""

from __future__ import annotations

import httpx

from harness.factories import Merchant
from tests.ledger.till.contract import assert_ledger, created, ok


def _swap_store_ids(merchant: Merchant) -> None:
    (site_a, site_b), (store_a, store_b) = merchant.site_ids, merchant.store_ids
    response = merchant.admin.put(
        f"/admin/accounts/{merchant.account_id}/store-ids",
        json={
            "assignments": [
                {"site_id": site_a, "store_id": store_b},
                {"site_id": site_b, "store_id": store_a},
            ]
        },
    )
    assert response.status_code == 200, response.text


def _replayed(response: httpx.Response, first: httpx.Response) -> None:
    assert response.status_code == first.status_code, response.text
    assert response.headers.get("Idempotent-Replayed") == "true", response.headers
    assert response.content == first.content


def test_a_redeem_retried_after_a_store_id_swap_is_a_replay(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 100, "reference": "swap-redeem-1"}
    first = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    created(first)

    _swap_store_ids(merchant)
    _replayed(merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body), first)
    assert_ledger(merchant, code, balance=900, kinds=["sale", "redemption"])

    # The same reference at the other store ID is that store's own reference.
    other_store = {**body, "store_id": merchant.store_ids[1]}
    created(merchant.till.post(f"/v1/vouchers/{code}/redeem", json=other_store))
    assert_ledger(merchant, code, balance=800, kinds=["sale", "redemption", "redemption"])


def test_a_sale_retried_after_a_store_id_swap_makes_no_second_voucher(
    merchant: Merchant,
) -> None:
    body = {
        "store_id": merchant.store,
        "product_id": merchant.product_id,
        "amount": 2500,
        "reference": "swap-sale-1",
    }
    first = merchant.till.post("/v1/vouchers", json=body)
    code = created(first)["code"]

    _swap_store_ids(merchant)
    _replayed(merchant.till.post("/v1/vouchers", json=body), first)
    assert_ledger(merchant, code, balance=2500, kinds=["sale"])
    # One voucher in the whole (fresh) ledger: the retry sold no second one.
    assert ok(merchant.admin.get("/admin/reconciliation"))["vouchers_checked"] == 1
    ok(merchant.balance(code))


def test_a_changed_body_after_a_swap_is_still_a_conflict(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 100, "reference": "swap-conflict-1"}
    created(merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body))
    _swap_store_ids(merchant)
    again = merchant.till.post(f"/v1/vouchers/{code}/redeem", json={**body, "amount": 200})
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "idempotency_conflict"
    assert_ledger(merchant, code, balance=900, kinds=["sale", "redemption"])
