"""An original request and its void by reference, sent at the same moment from two
connections (till-api.md, "Void by the till's own reference": "The original request and
the void may race: one of them wins, and money moves as if they had come in that
order"), 100 pairs on each backend.

Either the original wins (it moves money, and the void reverses it) or the void does
(it records the reference as voided, and the original gets 409 transaction_voided and
moves nothing): never both moving money unreversed, never neither recorded. The money
is then counted: every pair nets to nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from harness.factories import Merchant
from harness.ledger_app import LedgerServer

PAIRS = 100
KINDS = ("sale", "redeem", "load")
START = 100_000
AMOUNT = 100


def _original(merchant: Merchant, kind: str, code: str, reference: str) -> tuple[str, dict]:
    body: dict[str, Any] = {"store_id": merchant.store, "reference": reference}
    if kind == "sale":
        return "/v1/vouchers", {**body, "product_id": merchant.product_id, "amount": 1000}
    return f"/v1/vouchers/{code}/{kind}", {**body, "amount": AMOUNT}


def test_an_original_and_its_void_racing_move_money_as_if_in_some_order(
    ledger: LedgerServer, merchant: Merchant
) -> None:
    shared = merchant.sold_code(START)
    barrier = threading.Barrier(2)
    pairs: list[tuple[str, tuple[str, dict], dict]] = []
    for n in range(PAIRS):
        kind = KINDS[n % len(KINDS)]
        original = _original(merchant, kind, shared, f"race-{n}")
        void = {
            "store_id": merchant.store,
            "original_reference": f"race-{n}",
            "reference": f"void-{n}",
        }
        pairs.append((kind, original, void))

    def sender(send: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
        # One client (one connection) per side, warmed so the race is on the reference.
        with httpx.Client(
            base_url=ledger.url, auth=(merchant.username, merchant.password), timeout=120
        ) as client:
            client.get("/openapi.json")
            answers = []
            for n in range(PAIRS):
                barrier.wait(timeout=60)
                answers.append(send(client, n))
            return answers

    with ThreadPoolExecutor(max_workers=2) as pool:
        originals_future = pool.submit(
            sender, lambda c, n: c.post(pairs[n][1][0], json=pairs[n][1][1])
        )
        voids_future = pool.submit(sender, lambda c, n: c.post("/v1/reversals", json=pairs[n][2]))
        originals, voids = originals_future.result(), voids_future.result()

    winners: Counter[str] = Counter()
    sold: list[str] = []
    for n, (kind, (path, body), void_body) in enumerate(pairs):
        original, void = originals[n], voids[n]
        assert original.status_code < 500 and void.status_code < 500, (original.text, void.text)
        assert void.status_code == 201, (n, void.text)
        undone = void.json()
        if original.status_code == 201:
            # The original came first; the void reversed it.
            moved = original.json()
            assert undone["reversed_transaction_id"] == moved["transaction_id"], (n, undone)
            code = moved["code"] if kind == "sale" else shared
            assert undone["code"] == code
            assert undone["amount"] == body["amount"]
            if kind == "sale":
                sold.append(code)
                assert undone["balance"] == 0
            winners[f"{kind}: original first"] += 1
        else:
            # The void came first; the original moved nothing.
            assert original.status_code == 409, (n, original.text)
            assert original.json()["code"] == "transaction_voided", (n, original.text)
            assert (undone["reversed_transaction_id"], undone["code"], undone["amount"]) == (
                None,
                None,
                0,
            ), (n, undone)
            winners[f"{kind}: void first"] += 1

        # Late retries of either get the same answers again.
        again = merchant.till.post(path, json=body)
        assert (again.status_code, again.content) == (original.status_code, original.content)
        void_again = merchant.till.post("/v1/reversals", json=void_body)
        assert (void_again.status_code, void_again.content) == (201, void.content)

    print(
        f"\nvoid race on {ledger.settings.database_url.split(':')[0]}: {dict(sorted(winners.items()))}"
    )

    # A race, not a queue: each side won some (the odds of a side winning none of 100
    # pairs released together are negligible).
    assert sum(v for k, v in winners.items() if k.endswith("original first")) > 0, winners
    assert sum(v for k, v in winners.items() if k.endswith("void first")) > 0, winners

    # Every pair netted to nothing: the shared voucher is where it started...
    book = merchant.ledger_of(shared)
    assert book["balance"] == book["entries_total"] == START
    kinds = Counter(e["kind"] for e in book["entries"])
    moved_first = winners["redeem: original first"] + winners["load: original first"]
    assert kinds == Counter(
        {
            "sale": 1,
            "redemption": winners["redeem: original first"],
            "load": winners["load: original first"],
            "reversal": moved_first,
        }
    )
    # ... and each sale that went through was cancelled by its void.
    for code in sold:
        state = merchant.balance(code).json()
        assert (state["status"], state["balance"]) == ("cancelled", 0)
    report = merchant.admin.get("/admin/reconciliation").json()
    assert report["balanced"] is True, report
    assert report["vouchers_checked"] == 1 + len(sold)
