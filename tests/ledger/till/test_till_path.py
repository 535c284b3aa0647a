"""The till path's own promises (issue 10), over real HTTP on both databases: a known
till's calls and a flood of wrong passwords cost no credential look-up, an unknown
username is looked up once in a while, the throttle answers before a big body's 413,
and a flood of strangers leaves known tills answered."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx

from harness.factories import Merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import ok, problem, unknown_code

LIMIT = 64 * 1024


class _Traced:
    """Every statement the till path sends while the block runs."""

    def __init__(self, ledger: LedgerServer) -> None:
        self.ledger = ledger
        self.seen: list[str] = []

    def __enter__(self) -> list[str]:
        self.ledger.settle()  # the notes of first uses at a store, still under way
        self._block = self.ledger.app.state.till.backend.trace_statements(self.seen.append)
        self._block.__enter__()
        return self.seen

    def __exit__(self, *exc: object) -> None:
        self._block.__exit__(*exc)


def test_wrong_passwords_for_a_known_username_reach_no_database(
    merchant: Merchant, ledger: LedgerServer
) -> None:
    code = merchant.sold_code(1000)
    path, params = f"/v1/vouchers/{code}", {"store_id": merchant.store}
    url = str(merchant.till.base_url)
    with (
        httpx.Client(base_url=url, auth=(merchant.username, "not-the-password")) as wrong,
        _Traced(ledger) as seen,
    ):
        for _ in range(50):
            problem(wrong.get(path, params=params), 401, "unauthorized")
            write = {"store_id": merchant.store, "amount": 1, "reference": "w"}
            problem(wrong.post(f"{path}/redeem", json=write), 401, "unauthorized")
    assert seen == []
    # The till itself: one statement per balance check, none to look its credential up.
    with _Traced(ledger) as seen:
        for _ in range(5):
            ok(merchant.balance(code))
    assert len(seen) == 5, seen


def test_an_unknown_username_is_looked_up_once_in_a_while(
    merchant: Merchant, ledger: LedgerServer
) -> None:
    url = str(merchant.till.base_url)
    stranger = f"polaris-0-{secrets.token_hex(4)}"
    with (
        httpx.Client(base_url=url, auth=(stranger, merchant.password)) as client,
        _Traced(ledger) as seen,
    ):
        for _ in range(20):
            problem(
                client.get(f"/v1/vouchers/{unknown_code()}", params={"store_id": "S"}),
                401,
                "unauthorized",
            )
    assert len(seen) == 1, seen
    # A username longer than any credential's is refused without a look-up.
    with (
        httpx.Client(base_url=url, auth=("x" * 65, merchant.password)) as client,
        _Traced(ledger) as seen,
    ):
        problem(
            client.get(f"/v1/vouchers/{unknown_code()}", params={"store_id": "S"}),
            401,
            "unauthorized",
        )
    assert seen == []


def test_a_throttled_credential_gets_429_before_a_big_bodys_413(merchant: Merchant) -> None:
    for _ in range(20):
        problem(merchant.balance(unknown_code()), 404, "voucher_not_found")
    code = unknown_code()
    over = b'{"store_id": "S", "amount": 1, "reference": "big"' + b" " * LIMIT + b"}"
    response = merchant.till.post(
        f"/v1/vouchers/{code}/redeem", content=over, headers={"Content-Type": "application/json"}
    )
    problem(response, 429, "too_many_attempts")
    assert int(response.headers["Retry-After"]) >= 1


def test_a_flood_of_strangers_leaves_a_known_till_answered(merchant: Merchant) -> None:
    """64 clients with usernames nobody has, each new, against one till's balance
    checks: the strangers get 401 (or 503 when the look-up queue is full), the till
    gets its answers."""
    code = merchant.sold_code(1000)
    url = str(merchant.till.base_url)

    def stranger(n: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(10):
                client.auth = (f"polaris-0-{secrets.token_hex(4)}", "guess")
                response = client.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store})
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=65) as pool:
        floods = [pool.submit(stranger, n) for n in range(64)]
        till = pool.submit(lambda: [merchant.balance(code).status_code for _ in range(20)])
        answered = till.result()
        seen = {status for flood in floods for status in flood.result()}
    assert answered == [200] * 20
    assert seen <= {401, 503}, seen
    assert 401 in seen
