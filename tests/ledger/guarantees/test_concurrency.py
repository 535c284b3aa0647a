"""Concurrency guarantees (till-api.md, "Guarantees" and "Idempotency"), on both backends.

Every thread has its own HTTP client and waits on a barrier, so the requests reach the
ledger together and really race for the voucher.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from harness.factories import Merchant, ServedLedger
from harness.ledger_app import LedgerServer


def race(
    ledger: ServedLedger, merchant: Merchant, calls: list[Callable[[httpx.Client], httpx.Response]]
) -> list[httpx.Response]:
    """Run each call on its own thread and client, all released at once."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(
            base_url=ledger.url, auth=(merchant.username, merchant.password), timeout=120
        ) as client:
            # Warm the connection and the credential cache so the race is on the voucher.
            client.get("/openapi.json")
            barrier.wait(timeout=60)
            return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_reconciled(merchant: Merchant, code: str, balance: int) -> dict[str, Any]:
    ledger = merchant.ledger_of(code)
    assert ledger["balance"] == balance
    assert ledger["entries_total"] == balance
    assert sum(entry["amount"] for entry in ledger["entries"]) == balance
    report = merchant.admin.get("/admin/reconciliation")
    assert report.status_code == 200, report.text
    assert report.json()["balanced"] is True, report.json()
    return ledger


def assert_no_server_errors(responses: list[httpx.Response]) -> None:
    errors = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not errors, errors


def test_racing_redeems_never_overdraw(ledger: LedgerServer, merchant: Merchant) -> None:
    code = merchant.sold_code(1000)

    def redeem(n: int) -> Callable[[httpx.Client], httpx.Response]:
        body = {"store_id": merchant.store, "amount": 100, "reference": f"race-redeem-{n}"}
        return lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)

    responses = race(ledger, merchant, [redeem(n) for n in range(40)])

    assert_no_server_errors(responses)
    succeeded = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(succeeded) == 10
    assert {r.status_code for r in refused} == {409}
    assert {r.json()["code"] for r in refused} == {"insufficient_funds"}
    assert all(r.json()["balance"] == 0 for r in refused)
    # Each success saw the balance after its own redemption: 900, 800, ..., 0, once each.
    assert sorted(r.json()["balance"] for r in succeeded) == list(range(0, 1000, 100))
    assert all(r.json()["balance"] >= 0 for r in responses)
    assert merchant.balance(code).json()["balance"] == 0
    ledger_view = assert_reconciled(merchant, code, 0)
    assert [e["kind"] for e in ledger_view["entries"]].count("redemption") == 10


def test_racing_mixed_movements_keep_balance_equal_to_entries(
    ledger: LedgerServer, merchant: Merchant
) -> None:
    code = merchant.sold_code(500)

    def call(n: int) -> Callable[[httpx.Client], httpx.Response]:
        """Alternately a redemption (every other one partial) and a top-up."""
        body: dict[str, Any] = {"store_id": merchant.store, "amount": 150, "reference": f"mix-{n}"}
        if n % 2:
            return lambda client: client.post(f"/v1/vouchers/{code}/load", json=body)
        body["allow_partial"] = n % 4 == 0
        return lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)

    responses = race(ledger, merchant, [call(n) for n in range(30)])

    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} <= {201, 409}
    balance = merchant.balance(code).json()["balance"]
    assert balance >= 0
    ledger_view = assert_reconciled(merchant, code, balance)
    assert len(ledger_view["entries"]) == 1 + sum(r.status_code == 201 for r in responses)


def test_racing_identical_redeems_move_money_once(ledger: LedgerServer, merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 300, "reference": "till-retry-1"}

    responses = race(
        ledger,
        merchant,
        [lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)] * 20,
    )

    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["balance"] == 700
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count("true") == len(responses) - 1
    assert replayed.count(None) == 1
    ledger_view = assert_reconciled(merchant, code, 700)
    assert [e["reference"] for e in ledger_view["entries"]].count("till-retry-1") == 1


def test_racing_identical_refusals_are_replayed_alike(
    ledger: LedgerServer, merchant: Merchant
) -> None:
    code = merchant.sold_code(100)
    body = {"store_id": merchant.store, "amount": 300, "reference": "too-much"}

    responses = race(
        ledger,
        merchant,
        [lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)] * 20,
    )

    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} == {409}
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["code"] == "insufficient_funds"
    assert [r.headers.get("Idempotent-Replayed") for r in responses].count("true") == 19
    assert_reconciled(merchant, code, 100)


def test_racing_identical_sells_create_one_voucher(
    ledger: LedgerServer, merchant: Merchant
) -> None:
    body = {
        "store_id": merchant.store,
        "product_id": merchant.product_id,
        "amount": 2500,
        "reference": "sale-retry-1",
    }

    responses = race(ledger, merchant, [lambda client: client.post("/v1/vouchers", json=body)] * 20)

    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert [r.headers.get("Idempotent-Replayed") for r in responses].count("true") == 19
    code = responses[0].json()["code"]
    ledger_view = assert_reconciled(merchant, code, 2500)
    assert len(ledger_view["entries"]) == 1
    report = merchant.admin.get("/admin/reconciliation").json()
    assert report["vouchers_checked"] == 1


def test_racing_reversals_reverse_once(ledger: LedgerServer, merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    redemption = merchant.redeem(code, 400)
    assert redemption.status_code == 201, redemption.text
    transaction_id = redemption.json()["transaction_id"]

    def reverse(n: int) -> Callable[[httpx.Client], httpx.Response]:
        body = {
            "store_id": merchant.store,
            "transaction_id": transaction_id,
            "reference": f"undo-{n}",
        }
        return lambda client: client.post(f"/v1/vouchers/{code}/reverse", json=body)

    responses = race(ledger, merchant, [reverse(n) for n in range(20)])

    assert_no_server_errors(responses)
    succeeded = [r for r in responses if r.status_code == 201]
    assert len(succeeded) == 1
    assert succeeded[0].json()["balance"] == 1000
    assert succeeded[0].json()["reversed_transaction_id"] == transaction_id
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} == {409}
    assert {r.json()["code"] for r in refused} == {"already_reversed"}
    ledger_view = assert_reconciled(merchant, code, 1000)
    assert [e["kind"] for e in ledger_view["entries"]].count("reversal") == 1


def test_racing_sale_reversal_and_redeems(ledger: LedgerServer, merchant: Merchant) -> None:
    """A sale's reversal racing redemptions: either the voucher is cancelled with
    nothing taken, or it is in use and the reversal is refused. Never both."""
    sale = merchant.sell(1000)
    code, sale_id = sale.json()["code"], sale.json()["transaction_id"]

    def call(n: int) -> Callable[[httpx.Client], httpx.Response]:
        if n == 0:
            body = {"store_id": merchant.store, "transaction_id": sale_id, "reference": "void"}
            return lambda client: client.post(f"/v1/vouchers/{code}/reverse", json=body)
        body = {"store_id": merchant.store, "amount": 100, "reference": f"spend-{n}"}
        return lambda client: client.post(f"/v1/vouchers/{code}/redeem", json=body)

    responses = race(ledger, merchant, [call(n) for n in range(12)])

    assert_no_server_errors(responses)
    reversal, redeems = responses[0], responses[1:]
    taken = sum(r.json()["amount"] for r in redeems if r.status_code == 201)
    if reversal.status_code == 201:
        after = merchant.balance(code).json()
        assert after["status"] == "cancelled"
        assert after["balance"] == 0
        assert_reconciled(merchant, code, 0)
        # Redemptions that ran before it would have made the voucher in use.
        assert taken == 0
        assert {r.json()["code"] for r in redeems} == {"voucher_cancelled"}
    else:
        assert reversal.json()["code"] == "voucher_in_use"
        assert taken > 0
        assert_reconciled(merchant, code, 1000 - taken)
