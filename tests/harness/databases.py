"""Fresh ledger databases for the ledger's own tests: migrate once per backend, then
copy the template. Imports the ledger's code (its migrations)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from api.core.migrate import upgrade
from harness.postgres import admin_sql, ensure_postgres_running, url_for


class SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self._template = folder / "template.sqlite3"
        upgrade(f"sqlite:///{self._template}")

    def fresh(self, folder: Path) -> str:
        target = folder / "ledger.sqlite3"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"


class PostgresTemplates:
    def __init__(self, template: str) -> None:
        self._template = template

    @classmethod
    def connect(cls) -> PostgresTemplates:
        ensure_postgres_running()
        template = f"ledger_tpl_{uuid.uuid4().hex[:10]}"
        admin_sql(f'CREATE DATABASE "{template}"')
        upgrade(url_for(template))
        return cls(template)

    def fresh(self) -> str:
        name = f"ledger_test_{uuid.uuid4().hex[:12]}"
        admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        admin_sql(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
