"""Revision 0009 names how an onboarding's run ended: every failure recorded before it
was a failure of the run driving the onboarding then, so it becomes that run's
"failed" ending (and the onboarding still reads as failed)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from api.core.migrate import alembic_config


def test_recorded_failures_become_failed_endings_of_their_run(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    command.upgrade(config, "0007")
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
            for onboarding_id, run, failed_at in ((1, "run-a", now), (2, "run-b", None)):
                connection.execute(
                    text(
                        "INSERT INTO onboardings (id, account_id, polaris_name, polaris_email,"
                        " polaris_mobile, site_ids, flow_run_id, failed_at, failure_reason,"
                        " created_at, updated_at) VALUES (:id, 1, 'Pat', 'pat@polaris.example',"
                        " '+447700900123', '[]', :run, :failed_at, :reason, :now, :now)"
                    ),
                    {
                        "id": onboarding_id,
                        "run": run,
                        "failed_at": failed_at,
                        "reason": "till said no" if failed_at else None,
                        "now": now,
                    },
                )
        command.upgrade(config, "0009")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, ended_as, ended_flow_run_id FROM onboardings ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, "failed", "run-a"), (2, None, None)]
        command.downgrade(config, "0007")
        with engine.connect() as connection:
            kept = connection.execute(
                text("SELECT id, failure_reason FROM onboardings ORDER BY id")
            ).all()
        assert [tuple(r) for r in kept] == [(1, "till said no"), (2, None)]
    finally:
        engine.dispose()
