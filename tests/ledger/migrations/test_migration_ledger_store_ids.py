"""Revision 0004 gives ledger entries the store ID the till named: entries made before
it take the store ID of the idempotency record written with them, or none, and the
ledger stays append-only through the backfill and after it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from api.core.migrate import alembic_config

NOW = "2026-12-01 10:00:00+00:00"


def _insert(connection: Connection, sql: str, **values: object) -> None:
    connection.execute(text(sql), {"now": NOW, **values})


def test_existing_entries_take_the_store_id_of_their_record(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _insert(
                connection,
                "INSERT INTO accounts (id, name, card_range, currency, created_at)"
                " VALUES (1, 'M', '63011900', 'GBP', :now)",
            )
            _insert(
                connection,
                "INSERT INTO products (id, account_id, name, in_store, created_at)"
                " VALUES (1, 1, 'P', TRUE, :now)",
            )
            for site_id, store_id in ((1, "PLS-1"), (2, None)):
                _insert(
                    connection,
                    "INSERT INTO sites (id, account_id, name, address, reference, store_id,"
                    " created_at) VALUES (:id, 1, 'S', 'A', :ref, :store, :now)",
                    id=site_id,
                    ref=f"site-{site_id}",
                    store=store_id,
                )
            _insert(
                connection,
                "INSERT INTO vouchers (id, account_id, product_id, code, currency, balance,"
                " created_at) VALUES (1, 1, 1, '6301190012345678903', 'GBP', 4000, :now)",
            )
            # The sale was sold at PLS-OLD (the store ID site 1 had then); the redemption
            # at site 2, whose record revision 0003 could only give a tab; the top-up has
            # no record at all.
            entries = (
                (1, 1, "sale", 5000, "r-sale"),
                (2, 2, "redemption", -1500, "r-spend"),
                (3, 1, "load", 500, "r-load"),
            )
            for entry_id, site_id, kind, amount, reference in entries:
                _insert(
                    connection,
                    "INSERT INTO ledger_entries (id, transaction_id, voucher_id, account_id,"
                    " site_id, kind, amount, reference, created_at)"
                    " VALUES (:id, :tx, 1, 1, :site, :kind, :amount, :ref, :now)",
                    id=entry_id,
                    tx=f"00000000-0000-4000-8000-00000000000{entry_id}",
                    site=site_id,
                    kind=kind,
                    amount=amount,
                    ref=reference,
                )
            records = (
                (1, 1, "PLS-OLD", "r-sale", 201),
                (2, 1, "PLS-1", "r-sale", 409),  # a refusal under the same reference
                (3, 2, "\t2", "r-spend", 201),
            )
            for record_id, site_id, store_id, reference, status in records:
                _insert(
                    connection,
                    "INSERT INTO idempotency_records (id, account_id, store_id, site_id,"
                    " reference, request_hash, status_code, response_body, created_at)"
                    " VALUES (:id, 1, :store, :site, :ref, 'h', :status, '{}', :now)",
                    id=record_id,
                    store=store_id,
                    site=site_id,
                    ref=reference,
                    status=status,
                )

        command.upgrade(config, "0004")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, store_id FROM ledger_entries ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, "PLS-OLD"), (2, None), (3, None)]

        # Still append-only, on the new column too.
        for statement in (
            "UPDATE ledger_entries SET store_id = 'X' WHERE id = 1",
            "UPDATE ledger_entries SET amount = 1 WHERE id = 1",
            "DELETE FROM ledger_entries WHERE id = 1",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))

        command.downgrade(config, "0003")
        with engine.connect() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM ledger_entries")).scalar()
        assert count == 3
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM ledger_entries"))
    finally:
        engine.dispose()
