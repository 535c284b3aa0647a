"""The card-guessing throttle under parallel requests: however the look-ups are timed,
and across ledger processes sharing one database, a credential gets at most
LEDGER_THROTTLE_MAX_FAILURES answers of 404 voucher_not_found per window; the rest
get 429 too_many_attempts (till-api.md, Guarantees)."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from api.core.config import Settings
from harness.constants import ADMIN_TOKEN
from harness.factories import make_merchant
from harness.ledger_app import serve_ledger
from tests.ledger.till.contract import unknown_code

LIMIT = 20
PARALLEL = 100


def _random_unknown_code() -> str:
    return unknown_code(middle=f"{secrets.randbelow(10**10):010d}")


def _race(calls: list[Callable[[], httpx.Response]]) -> Counter[int]:
    """Run every call at once (released together by a barrier); count the statuses."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> int:
        barrier.wait(timeout=60)
        return call().status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def test_parallel_unknown_codes_get_at_most_the_limit_of_404s(settings: Settings) -> None:
    # Two ledgers on the one database, as two processes or hosts would be.
    with serve_ledger(settings) as first, serve_ledger(settings) as second:
        with httpx.Client(
            base_url=first.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
        ) as admin:
            merchant = make_merchant(first, admin)
        limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=PARALLEL)
        auth = (merchant.username, merchant.password)
        clients = [
            httpx.Client(base_url=server.url, auth=auth, timeout=120, limits=limits)
            for server in (first, second)
        ]
        try:
            calls: list[Callable[[], httpx.Response]] = []
            for n in range(PARALLEL):
                client = clients[n % 2]
                code = _random_unknown_code()
                if n % 4 == 3:
                    body = {"store_id": merchant.store, "amount": 1, "reference": f"race-{n}"}
                    calls.append(
                        lambda c=client, k=code, b=body: c.post(f"/v1/vouchers/{k}/redeem", json=b)
                    )
                else:
                    calls.append(
                        lambda c=client, k=code: c.get(
                            f"/v1/vouchers/{k}", params={"store_id": merchant.store}
                        )
                    )
            statuses = _race(calls)
        finally:
            for client in clients:
                client.close()
            merchant.close()
    assert set(statuses) <= {404, 429}, statuses
    assert statuses[404] <= LIMIT, statuses
    # Each 404 counted (none lost either): the first LIMIT failures are answered.
    assert statuses[404] == LIMIT, statuses
