"""Fixtures for the ledger's own tests (a pytest plugin): a fresh, migrated database
per test on each backend (SQLite and PostgreSQL), and the ledger served over real
HTTP on loopback, in this process. Imports the ledger's code.

Backends come from LEDGER_TEST_BACKENDS (default "sqlite,postgresql"). PostgreSQL is
started if it is installed but not running; if it cannot be reached the run fails
loudly rather than skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.core.config import Settings
from harness.constants import ADMIN_TOKEN, BACKENDS
from harness.databases import PostgresTemplates, SqliteTemplates
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from harness.postgres import empty_database


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-templates"))


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates.connect()
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration, for this test alone."""
    if backend == "sqlite":
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        yield templates.fresh(tmp_path)
    else:
        pg: PostgresTemplates = request.getfixturevalue("postgres_templates")
        url = pg.fresh()
        yield url
        pg.drop(url)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on this backend."""
    with empty_database(backend, tmp_path) as url:
        yield url


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
