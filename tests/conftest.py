"""Fixtures shared by every test: a fresh, migrated database per test on each
backend (SQLite and PostgreSQL), and the ledger served over real HTTP on loopback.

Backends come from LEDGER_TEST_BACKENDS (default "sqlite,postgresql"). PostgreSQL is
started if it is installed but not running; if it cannot be reached the run fails
loudly rather than skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from api.core.config import Settings
from tests.support.databases import PostgresTemplates, SqliteTemplates
from tests.support.factories import Merchant, make_merchant
from tests.support.server import LedgerServer, serve_ledger

if TYPE_CHECKING:  # prefect is imported only by the tests that use it
    from tests.support.prefect_env import PrefectServer

BACKENDS = [
    b.strip()
    for b in os.environ.get("LEDGER_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-templates"))


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates.connect()
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    """Prefect's test harness, once per session: the flow tests and the `onboarding`
    command's tests share it (two harnesses in one process would fight over the
    Prefect settings they each put in force)."""
    from prefect.testing.utilities import prefect_test_harness

    from tests.support.prefect_env import harness_server

    with prefect_test_harness(server_startup_timeout=120):
        yield harness_server()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh database at the newest migration, for this test alone."""
    if backend == "sqlite":
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        yield templates.fresh(tmp_path)
    else:
        pg: PostgresTemplates = request.getfixturevalue("postgres_templates")
        url = pg.fresh()
        yield url
        pg.drop(url)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        # Cheap argon2 keeps the suite fast; production uses argon2-cffi's defaults.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[LedgerServer]:
    """The ledger app served by uvicorn on a free loopback port."""
    with serve_ledger(settings) as server:
        yield server


@pytest.fixture
def admin(ledger: LedgerServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def merchant(ledger: LedgerServer, admin: httpx.Client) -> Iterator[Merchant]:
    """A merchant with an in-store product, two mapped sites and a till credential."""
    m = make_merchant(ledger, admin)
    yield m
    m.close()
