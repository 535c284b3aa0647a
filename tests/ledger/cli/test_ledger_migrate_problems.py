"""`ledger migrate` (which `scripts/up` runs first) on a database it cannot bring to
the newest schema: a plain message that says what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from api.core.migrate import upgrade
from harness.processes import free_port
from tests.ledger.cli.test_ledger_cli import assert_clean_failure, run_ledger


def _execute(database_url: str, statement: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def test_a_half_migrated_database_is_explained(empty_database_url: str) -> None:
    # The second migration's table is there, but the record says only the first ran.
    upgrade(empty_database_url)
    _execute(empty_database_url, "UPDATE alembic_version SET version_num = '0001'")

    result = run_ledger(empty_database_url, "migrate")
    assert_clean_failure(
        result, "tables do not match its migration record (revision 0001)", "onboardings"
    )
    assert "restore it from a backup" in result.stderr

    refused = run_ledger(empty_database_url, "serve", "--port", str(free_port()))
    assert_clean_failure(refused, "not at the newest schema", "ledger migrate")


def test_tables_without_a_migration_record_are_explained(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    _execute(empty_database_url, "DROP TABLE alembic_version")
    result = run_ledger(empty_database_url, "migrate")
    assert_clean_failure(result, "(no migration at all)", "half-migrated, or built by other means")


def test_a_database_from_a_newer_ledger_is_explained(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    _execute(empty_database_url, "UPDATE alembic_version SET version_num = '9999future'")
    result = run_ledger(empty_database_url, "migrate")
    assert_clean_failure(result, "revision 9999future", "a newer version migrated it")


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    not_a_database = tmp_path / "ledger.sqlite3"
    not_a_database.write_bytes(b"these are not the tables you are looking for\n" * 100)
    url = f"sqlite:///{not_a_database}"
    assert_clean_failure(run_ledger(url, "migrate"), "Could not migrate", "not a database")
    served = run_ledger(url, "serve", "--port", str(free_port()))
    assert_clean_failure(served, "Cannot reach the database", "not a database")
