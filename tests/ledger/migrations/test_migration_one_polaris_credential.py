"""Revision 0010 brings in the one-Polaris-credential rule: an account that already has
several active Polaris credentials keeps the newest one a till has used (else the
newest), and the others are flagged surplus, none revoked; afterwards the rule holds in
the database itself."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import IntegrityError

from api.core.migrate import alembic_config

NOW = "2026-12-01 10:00:00+00:00"


def _insert(connection: Connection, sql: str, **values: object) -> None:
    connection.execute(text(sql), {"now": NOW, **values})


def _user(connection: Connection, user_id: int, account_id: int, purpose: str) -> None:
    _insert(
        connection,
        "INSERT INTO integration_users (id, account_id, username, password_hash, label,"
        " purpose, created_at) VALUES (:id, :account, :name, 'sha256$x', 'Polaris', :purpose,"
        " :now)",
        id=user_id,
        account=account_id,
        name=f"user-{user_id}",
        purpose=purpose,
    )


def test_extra_polaris_credentials_are_flagged_not_revoked(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0008")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for account_id in (1, 2, 3):
                _insert(
                    connection,
                    "INSERT INTO accounts (id, name, card_range, currency, created_at)"
                    " VALUES (:id, 'M', '63011900', 'GBP', :now)",
                    id=account_id,
                )
            # Account 1: three Polaris credentials, the middle one used by a till.
            for user_id in (1, 2, 3):
                _user(connection, user_id, 1, "polaris")
            _user(connection, 4, 1, "other")
            _insert(
                connection,
                "INSERT INTO credential_store_uses (integration_user_id, store_id,"
                " first_used_at) VALUES (2, 'PLR-1', :now)",
            )
            # Account 2: two, neither used. Account 3: one.
            for user_id in (5, 6):
                _user(connection, user_id, 2, "polaris")
            _user(connection, 7, 3, "polaris")

        command.upgrade(config, "0010")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, surplus_at IS NOT NULL, revoked_at IS NOT NULL"
                    " FROM integration_users ORDER BY id"
                )
            ).all()
        surplus = {r[0] for r in rows if r[1]}
        assert surplus == {1, 3, 5}  # kept: 2 (used), 6 (newest), 7 (alone), 4 (other)
        assert not any(r[2] for r in rows)  # none revoked

        # From now on the database refuses a second active Polaris credential.
        with pytest.raises(IntegrityError), engine.begin() as connection:
            _user(connection, 8, 3, "polaris")
        with engine.begin() as connection:
            _user(connection, 9, 3, "other")

        command.downgrade(config, "0008")
        with engine.connect() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM integration_users")).scalar()
        assert count == 8
    finally:
        engine.dispose()
