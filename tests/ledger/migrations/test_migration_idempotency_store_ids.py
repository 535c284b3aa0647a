"""Revision 0003 keys idempotency records on the store ID the till sent: records made
before it take their site's store ID, so a retry after the upgrade is still a replay."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from api.core.migrate import alembic_config


def test_existing_records_take_their_sites_store_id(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    command.upgrade(config, "0002")
    engine = create_engine(url)
    now = "2026-11-01 10:00:00+00:00"
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, name, card_range, currency, created_at) "
                    "VALUES (1, 'M', '63011900', 'GBP', :now)"
                ),
                {"now": now},
            )
            for site_id, store_id in ((1, "PLS-1"), (2, None)):
                connection.execute(
                    text(
                        "INSERT INTO sites (id, account_id, name, address, reference, store_id,"
                        " created_at) VALUES (:id, 1, 'S', 'A', :ref, :store, :now)"
                    ),
                    {"id": site_id, "ref": f"site-{site_id}", "store": store_id, "now": now},
                )
            for record_id, site_id in ((1, 1), (2, 2)):
                connection.execute(
                    text(
                        "INSERT INTO idempotency_records (id, account_id, site_id, reference,"
                        " request_hash, status_code, response_body, created_at)"
                        " VALUES (:id, 1, :site, 'r-1', 'h', 201, '{}', :now)"
                    ),
                    {"id": record_id, "site": site_id, "now": now},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, store_id FROM idempotency_records ORDER BY id")
            ).all()
        # A site without a store ID now gets one no till can send (never replayed).
        assert [tuple(r) for r in rows] == [(1, "PLS-1"), (2, "\t2")]
        command.downgrade(config, "0002")
        with engine.connect() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM idempotency_records")).scalar()
        assert count == 2
    finally:
        engine.dispose()
