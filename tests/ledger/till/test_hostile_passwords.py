"""Wrong passwords cost little and tell nothing (design.md: API passwords are random
secrets stored as SHA-256 digests compared in constant time; hostile traffic costs
little). Served with production argon2 costs, so that any argon2 verification left on
the path of a wrong password shows as time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, update

from api.core.config import Settings
from api.credentials.models import IntegrationUser
from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.till.contract import ok, problem

CALLS = 30
# Medians of the three kinds of refusal may differ by this much at most. Without the
# constant work, a real user's wrong password took an argon2 verification (about
# 170 ms here) more than an unknown username.
TIMING_BOUND_SECONDS = 0.015
FLOOD_CLIENTS = 16
FLOOD_CALLS_EACH = 16
FLOOD_BOUND_SECONDS = 8.0  # 256 argon2 verifications on 2 cores took well over 20 s


@pytest.fixture
def production_costs_settings(database_url: str) -> Settings:
    # argon2-cffi's defaults, as production uses (conftest lowers them for speed).
    return make_settings(database_url, argon2_time_cost=3, argon2_memory_cost_kib=65536)


@pytest.fixture
def slow_ledger(production_costs_settings: Settings) -> Iterator[LedgerServer]:
    with serve_ledger(production_costs_settings) as server:
        yield server


@pytest.fixture
def slow_admin(slow_ledger: LedgerServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=slow_ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def slow_merchant(slow_ledger: LedgerServer, slow_admin: httpx.Client) -> Iterator[Merchant]:
    merchant = make_merchant(slow_ledger, slow_admin)
    yield merchant
    merchant.close()


def _median_seconds(client: httpx.Client, path: str, params: dict[str, str]) -> float:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        response = client.get(path, params=params)
        times.append(time.perf_counter() - started)
        problem(response, 401, "unauthorized")
    return statistics.median(times)


def test_unknown_wrong_and_revoked_take_the_same_time(
    slow_merchant: Merchant, slow_admin: httpx.Client
) -> None:
    merchant = slow_merchant
    code = merchant.sold_code(1000)
    revoked = slow_admin.post(
        f"/admin/accounts/{merchant.account_id}/integration-users", json={"label": "old till"}
    ).json()
    url = str(merchant.till.base_url)
    path, params = f"/v1/vouchers/{code}", {"store_id": merchant.store}
    with httpx.Client(base_url=url, auth=(revoked["username"], revoked["password"])) as client:
        ok(client.get(path, params=params))  # used once, and remembered, before revoking
    assert slow_admin.post(f"/admin/integration-users/{revoked['id']}/revoke").status_code == 200

    kinds = {
        "unknown username": ("polaris-0-00000000", merchant.password),
        "wrong password": (merchant.username, "x" * len(merchant.password)),
        "revoked, right password": (revoked["username"], revoked["password"]),
        "revoked, wrong password": (revoked["username"], "y" * len(merchant.password)),
    }
    medians = {}
    for kind, auth in kinds.items():
        with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
            client.get(path, params=params)  # the connection opened before timing
            medians[kind] = _median_seconds(client, path, params)
    spread = max(medians.values()) - min(medians.values())
    shown = {k: f"{v * 1000:.1f} ms" for k, v in medians.items()}
    assert spread < TIMING_BOUND_SECONDS, shown
    ok(merchant.balance(code))


def test_a_flood_of_wrong_passwords_costs_little(slow_merchant: Merchant) -> None:
    merchant = slow_merchant
    code = merchant.sold_code(1000)
    url = str(merchant.till.base_url)
    path, params = f"/v1/vouchers/{code}", {"store_id": merchant.store}

    def flood(n: int) -> list[int]:
        with httpx.Client(base_url=url, auth=(merchant.username, f"guess-{n}"), timeout=120) as c:
            return [c.get(path, params=params).status_code for _ in range(FLOOD_CALLS_EACH)]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=FLOOD_CLIENTS + 1) as pool:
        floods = [pool.submit(flood, n) for n in range(FLOOD_CLIENTS)]
        # The real till, meanwhile, is answered.
        balance = pool.submit(lambda: [merchant.balance(code) for _ in range(5)])
        statuses = [s for f in floods for s in f.result()]
        balances = balance.result()
    elapsed = time.monotonic() - started
    assert statuses == [401] * FLOOD_CLIENTS * FLOOD_CALLS_EACH
    assert all(r.status_code == 200 for r in balances)
    assert elapsed < FLOOD_BOUND_SECONDS, f"{elapsed:.1f} s for the flood"
    # No lock-out: the right password works at once after the flood.
    ok(merchant.balance(code))


def _stored_hash(settings: Settings, user_id: int) -> str:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            value = connection.scalar(
                select(IntegrationUser.password_hash).where(IntegrationUser.id == user_id)
            )
    finally:
        engine.dispose()
    assert isinstance(value, str)
    return value


def test_an_argon2_credential_works_once_and_is_then_stored_as_a_digest(
    merchant: Merchant, settings: Settings
) -> None:
    """A credential stored by an earlier version (an argon2id hash) authenticates, and
    its first success replaces the hash with the SHA-256 digest."""
    code = merchant.sold_code(1000)
    users = merchant.admin.get(f"/admin/accounts/{merchant.account_id}/integration-users")
    user_id = next(u["id"] for u in users.json() if u["username"] == merchant.username)
    legacy = PasswordHasher(time_cost=1, memory_cost=1024).hash(merchant.password)
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(IntegrationUser)
                .where(IntegrationUser.id == user_id)
                .values(password_hash=legacy)
            )
    finally:
        engine.dispose()

    url = str(merchant.till.base_url)
    with httpx.Client(base_url=url, auth=(merchant.username, "wrong")) as wrong:
        problem(
            wrong.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}),
            401,
            "unauthorized",
        )
    assert _stored_hash(settings, user_id) == legacy  # a wrong password changes nothing

    ok(merchant.balance(code))
    stored = _stored_hash(settings, user_id)
    assert stored.startswith("sha256$") and merchant.password not in stored
    ok(merchant.balance(code))
    assert merchant.redeem(code, 100).status_code == 201
    with httpx.Client(base_url=url, auth=(merchant.username, "wrong")) as wrong:
        problem(
            wrong.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}),
            401,
            "unauthorized",
        )
