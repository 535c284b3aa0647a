"""The local PostgreSQL cluster (127.0.0.1:5432, user postgres): started if it is
installed but down, and empty databases made and dropped on it. Needs only psycopg,
not the ledger's code."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def ensure_postgres_running() -> None:
    """Start the local cluster if it is installed and down; fail loudly otherwise."""
    if _reachable():
        return
    clusters = Path("/etc/postgresql")
    if clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
            )
        for _ in range(60):
            if _reachable():
                return
            time.sleep(0.5)
    pytest.fail(
        "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started. "
        "Start it, or run only SQLite with LEDGER_TEST_BACKENDS=sqlite.",
        pytrace=False,
    )


def _reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A database with no schema at all (for migration and CLI tests, or for a
    server to migrate itself); dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'empty.sqlite3'}"
        return
    ensure_postgres_running()
    name = f"ledger_empty_{uuid.uuid4().hex[:12]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url_for(name)
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url_for(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def admin_sql(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)
