"""Fresh databases for tests: migrate once per backend, then copy the template."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from api.core.migrate import upgrade

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self._template = folder / "template.sqlite3"
        upgrade(f"sqlite:///{self._template}")

    def fresh(self, folder: Path) -> str:
        target = folder / "ledger.sqlite3"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"


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


class PostgresTemplates:
    def __init__(self, template: str) -> None:
        self._template = template

    @classmethod
    def connect(cls) -> PostgresTemplates:
        ensure_postgres_running()
        template = f"ledger_tpl_{uuid.uuid4().hex[:10]}"
        _admin_sql(f'CREATE DATABASE "{template}"')
        upgrade(_url_for(template))
        return cls(template)

    def fresh(self) -> str:
        name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return _url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        _admin_sql(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A database with no schema at all (for migration and CLI tests); dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'empty.sqlite3'}"
        return
    ensure_postgres_running()
    name = f"ledger_empty_{uuid.uuid4().hex[:12]}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _url_for(name)
    finally:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url_for(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def _admin_sql(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]
