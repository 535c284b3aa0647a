"""Revision 0008 adds credential_store_uses: one row per integration user and store ID
(the first use), for existing users only; going back removes it and nothing else."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from api.core.migrate import alembic_config

NOW = "2026-12-01 10:00:00+00:00"
USE = (
    "INSERT INTO credential_store_uses (integration_user_id, store_id, first_used_at) "
    "VALUES (:user, :store, :now)"
)


def _engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # As the ledger's own connections do (api.core.db): foreign keys enforced.
        event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
    return engine


def test_0008_adds_the_table_and_removes_it(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    command.upgrade(config, "0007")
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, name, card_range, currency, created_at) "
                    "VALUES (1, 'M', '63011900', 'GBP', :now)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO integration_users (id, account_id, username, password_hash,"
                    " label, created_at) VALUES (1, 1, 'polaris-1-x', 'sha256$0', '', :now)"
                ),
                {"now": NOW},
            )
        assert "credential_store_uses" not in inspect(engine).get_table_names()

        command.upgrade(config, "0008")
        with engine.begin() as connection:
            connection.execute(text(USE), {"user": 1, "store": "PLS-1", "now": NOW})
            connection.execute(text(USE), {"user": 1, "store": "PLS-2", "now": NOW})
        for user, store in ((1, "PLS-1"), (2, "PLS-3")):  # the same pair; no such user
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(text(USE), {"user": user, "store": store, "now": NOW})
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT integration_user_id, store_id FROM credential_store_uses "
                    "ORDER BY store_id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, "PLS-1"), (1, "PLS-2")]

        command.downgrade(config, "0007")
        assert "credential_store_uses" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            users = connection.execute(text("SELECT COUNT(*) FROM integration_users")).scalar()
        assert users == 1
    finally:
        engine.dispose()
