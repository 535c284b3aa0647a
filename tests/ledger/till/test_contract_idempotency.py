"""Idempotency, one request after another (the races live in tests/guarantees/).

The same reference with the same body changes nothing and gets the first answer back
with `Idempotent-Replayed: true`, for 201s and 409 refusals alike; a different body is
409 idempotency_conflict; requests refused before the ledger acted leave no record.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from harness.factories import Merchant
from tests.ledger.till.contract import assert_ledger, balance_of, created, ok, problem, unknown_code


def _replayed(first: httpx.Response, again: httpx.Response) -> None:
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.status_code == first.status_code
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.json() == first.json()


def _post(merchant: Merchant, path: str, body: dict[str, Any]) -> httpx.Response:
    return merchant.till.post(path, json=body)


def test_repeated_writes_move_money_once(merchant: Merchant) -> None:
    body = {
        "store_id": merchant.store,
        "product_id": merchant.product_id,
        "amount": 5000,
        "reference": "till-7-000123",
    }
    first_sale = _post(merchant, "/v1/vouchers", body)
    code = created(first_sale)["code"]
    for _ in range(2):
        _replayed(first_sale, _post(merchant, "/v1/vouchers", body))
    assert merchant.admin.get("/admin/reconciliation").json()["vouchers_checked"] == 1

    redeem_body = {"store_id": merchant.store, "amount": 1000, "reference": "r-1"}
    first = _post(merchant, f"/v1/vouchers/{code}/redeem", redeem_body)
    redemption = created(first)
    _replayed(first, _post(merchant, f"/v1/vouchers/{code}/redeem", redeem_body))

    load_body = {"store_id": merchant.store, "amount": 300, "reference": "l-1"}
    first_load = _post(merchant, f"/v1/vouchers/{code}/load", load_body)
    created(first_load)
    _replayed(first_load, _post(merchant, f"/v1/vouchers/{code}/load", load_body))

    reverse_body = {
        "store_id": merchant.store,
        "transaction_id": redemption["transaction_id"],
        "reference": "v-1",
    }
    first_reversal = _post(merchant, f"/v1/vouchers/{code}/reverse", reverse_body)
    created(first_reversal)
    # The same reference replays; only another reference is told it was reversed already.
    _replayed(first_reversal, _post(merchant, f"/v1/vouchers/{code}/reverse", reverse_body))
    problem(merchant.reverse(code, redemption["transaction_id"]), 409, "already_reversed")

    assert balance_of(merchant, code) == 5300
    assert_ledger(merchant, code, balance=5300, kinds=["sale", "redemption", "load", "reversal"])


def test_omitted_allow_partial_equals_false(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    path = f"/v1/vouchers/{code}/redeem"
    explicit = {
        "store_id": merchant.store,
        "amount": 700,
        "reference": "p-1",
        "allow_partial": False,
    }
    first = _post(merchant, path, explicit)
    created(first)
    omitted = {k: v for k, v in explicit.items() if k != "allow_partial"}
    _replayed(first, _post(merchant, path, omitted))

    # And the other way round: first omitted, then sent as false.
    first = _post(merchant, path, {**omitted, "reference": "p-2"})
    created(first)
    _replayed(first, _post(merchant, path, {**explicit, "reference": "p-2"}))
    # But true is a different request.
    problem(
        _post(merchant, path, {**explicit, "reference": "p-2", "allow_partial": True}),
        409,
        "idempotency_conflict",
    )
    assert_ledger(merchant, code, balance=3600, kinds=["sale", "redemption", "redemption"])


def test_a_refusal_is_replayed_even_after_things_change(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    path = f"/v1/vouchers/{code}/redeem"
    body = {"store_id": merchant.store, "amount": 3000, "reference": "short-1"}
    first = _post(merchant, path, body)
    refusal = problem(first, 409, "insufficient_funds")
    assert refusal["balance"] == 1000
    created(merchant.load(code, 5000))  # it would succeed now
    again = _post(merchant, path, body)
    _replayed(first, again)
    problem(again, 409, "insufficient_funds")
    assert balance_of(merchant, code) == 6000
    assert_ledger(merchant, code, balance=6000, kinds=["sale", "load"])

    # A sale reversal refused while the voucher is in use stays refused on retry.
    sale_id = merchant.ledger_of(code)["entries"][0]["transaction_id"]
    load_id = merchant.ledger_of(code)["entries"][1]["transaction_id"]
    reverse_body = {"store_id": merchant.store, "transaction_id": sale_id, "reference": "c-1"}
    first = _post(merchant, f"/v1/vouchers/{code}/reverse", reverse_body)
    problem(first, 409, "voucher_in_use")
    created(merchant.reverse(code, load_id))
    _replayed(first, _post(merchant, f"/v1/vouchers/{code}/reverse", reverse_body))
    assert ok(merchant.balance(code))["status"] == "active"


def test_the_same_reference_with_another_body_is_a_conflict(
    merchant: Merchant, other: Merchant
) -> None:
    code = merchant.sold_code(5000)
    second_code = merchant.sold_code(5000)
    body = {"store_id": merchant.store, "amount": 1000, "reference": "dup-1"}
    first = _post(merchant, f"/v1/vouchers/{code}/redeem", body)
    created(first)

    conflicts = [
        (f"/v1/vouchers/{code}/redeem", {**body, "amount": 1001}),
        (f"/v1/vouchers/{code}/redeem", {**body, "allow_partial": True}),
        (f"/v1/vouchers/{second_code}/redeem", body),  # another voucher
        (f"/v1/vouchers/{code}/load", body),  # another operation
        (
            "/v1/vouchers",
            {"store_id": merchant.store, "product_id": merchant.product_id, "amount": 1000}
            | {"reference": "dup-1"},
        ),
    ]
    for path, conflicting in conflicts:
        response = _post(merchant, path, conflicting)
        problem(response, 409, "idempotency_conflict")
        assert "Idempotent-Replayed" not in response.headers
    # The first answer stands and still replays.
    _replayed(first, _post(merchant, f"/v1/vouchers/{code}/redeem", body))
    assert_ledger(merchant, code, balance=4000, kinds=["sale", "redemption"])
    assert_ledger(merchant, second_code, balance=5000, kinds=["sale"])

    # References belong to one account and store: the same reference at the account's
    # other store is another transaction...
    elsewhere = created(
        _post(merchant, f"/v1/vouchers/{code}/redeem", {**body, "store_id": merchant.store_ids[1]})
    )
    assert elsewhere["transaction_id"] != first.json()["transaction_id"]
    assert elsewhere["balance"] == 3000
    # ... and another account's till may use it for its own business.
    theirs = other.sold_code(2000)
    other_body = {"store_id": other.store, "amount": 500, "reference": "dup-1"}
    assert created(_post(other, f"/v1/vouchers/{theirs}/redeem", other_body))["balance"] == 1500
    assert_ledger(merchant, code, balance=3000, kinds=["sale", "redemption", "redemption"])


def test_requests_refused_before_the_ledger_acted_leave_no_record(merchant: Merchant) -> None:
    """401, 403, 404 and 422 keep no record: the reference can then be used. (429: see
    test_contract_throttle.)"""
    sale = created(merchant.sell(5000))
    code = sale["code"]
    store = merchant.store
    redeem = f"/v1/vouchers/{code}/redeem"

    # 401
    body = {"store_id": store, "amount": 100, "reference": "after-401"}
    problem(
        merchant.till.post(redeem, json=body, auth=(merchant.username, "x")), 401, "unauthorized"
    )
    created(_post(merchant, redeem, body))
    # 403: unknown store, then the real one with the same reference
    body = {"store_id": "NOPE", "amount": 100, "reference": "after-403"}
    problem(_post(merchant, redeem, body), 403, "unknown_store")
    created(_post(merchant, redeem, {**body, "store_id": store}))
    # 404 voucher_not_found: then the same reference on a real voucher
    body = {"store_id": store, "amount": 100, "reference": "after-404"}
    problem(
        _post(merchant, f"/v1/vouchers/{unknown_code()}/redeem", body), 404, "voucher_not_found"
    )
    created(_post(merchant, redeem, body))
    # 404 product_not_found
    sell = {"store_id": store, "product_id": 999_999, "amount": 100, "reference": "after-404p"}
    problem(_post(merchant, "/v1/vouchers", sell), 404, "product_not_found")
    created(_post(merchant, "/v1/vouchers", {**sell, "product_id": merchant.product_id}))
    # 404 transaction_not_found
    load = created(merchant.load(code, 50))
    reverse = {"store_id": store, "transaction_id": str(uuid.uuid4()), "reference": "after-404t"}
    problem(_post(merchant, f"/v1/vouchers/{code}/reverse", reverse), 404, "transaction_not_found")
    created(
        _post(
            merchant,
            f"/v1/vouchers/{code}/reverse",
            {**reverse, "transaction_id": load["transaction_id"]},
        )
    )
    # 422
    body = {"store_id": store, "amount": 0, "reference": "after-422"}
    problem(_post(merchant, redeem, body), 422, "invalid_request")
    created(_post(merchant, redeem, {**body, "amount": 100}))

    kinds = ["sale", "redemption", "redemption", "redemption", "load", "reversal", "redemption"]
    assert_ledger(merchant, code, balance=4600, kinds=kinds)
