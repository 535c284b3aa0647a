"""The alembic migrations, on each backend: they run both ways from an empty database,
they build exactly the schema the ORM models describe, and the rules the database
itself enforces (append-only ledger, no negative balance) are in place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, delete, func, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from api.core.migrate import alembic_config, upgrade
from api.merchants.models import Account, Product, Site
from api.models import Base
from api.vouchers.models import LedgerEntry, Voucher

Snapshot = dict[str, Any]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A plain engine on a migrated database: none of the ledger's own session rules."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def snapshot(url: str) -> Snapshot:
    """What a migration can change: tables, columns, indexes, constraints, triggers."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            tables = {
                table: {
                    "columns": sorted(
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)
                    ),
                    "indexes": sorted(i["name"] or "" for i in inspector.get_indexes(table)),
                    "unique": sorted(
                        u["name"] or "" for u in inspector.get_unique_constraints(table)
                    ),
                    "foreign_keys": sorted(
                        fk["name"] or "" for fk in inspector.get_foreign_keys(table)
                    ),
                    "checks": sorted(
                        c["name"] or "" for c in inspector.get_check_constraints(table)
                    ),
                }
                for table in inspector.get_table_names()
            }
            return {"tables": tables, "triggers": _triggers(connection)}
    finally:
        engine.dispose()


def _triggers(connection: Any) -> list[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "UNION ALL SELECT proname FROM pg_proc "
            "JOIN pg_namespace ON pg_namespace.oid = pronamespace WHERE nspname = 'public'"
        )
    return sorted(connection.execute(text(query)).scalars())


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_upgrade_downgrade_upgrade_from_an_empty_database(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)

    upgrade(url)
    head = snapshot(url)
    assert set(head["tables"]) == set(Base.metadata.tables) | {"alembic_version"}
    assert head["triggers"]

    command.downgrade(config, "base")
    base = snapshot(url)
    assert set(base["tables"]) <= {"alembic_version"}
    assert base["triggers"] == []

    upgrade(url)
    assert snapshot(url) == head
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    assert list(current) == [revisions()[-1]]


def test_every_revision_downgrades_to_the_one_before(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    steps = revisions()
    assert len(steps) >= 2

    script = ScriptDirectory.from_config(config)
    backend = make_url(url).get_backend_name()
    seen = [snapshot(url)]
    for revision in steps:
        command.upgrade(config, revision)
        seen.append(snapshot(url))
        # A revision names the databases it is for when it is not for all of them
        # (0005: PostgreSQL's functions); on the others it must change nothing.
        module = script.get_revision(revision).module
        if backend in getattr(module, "dialects", (backend,)):
            assert seen[-1] != seen[-2], f"revision {revision} changed nothing"
        else:
            assert seen[-1] == seen[-2], f"revision {revision} is not for {backend}"
    for before in reversed(seen[:-1]):
        command.downgrade(config, "-1")
        after = snapshot(url)
        # An empty database has no alembic_version yet; a downgraded one keeps it, empty.
        after["tables"].pop("alembic_version", None)
        before["tables"].pop("alembic_version", None)
        assert after == before


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def _one_entry(engine: Engine) -> LedgerEntry:
    """Insert an account, product, site, voucher and the voucher's sale entry."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        account = Account(name="Migrations Ltd")
        session.add(account)
        session.flush()
        product = Product(account_id=account.id, name="Gift voucher")
        site = Site(account_id=account.id, name="Site", address="1 High St", reference="s1")
        session.add_all([product, site])
        session.flush()
        voucher = Voucher(
            account_id=account.id,
            product_id=product.id,
            code="6301190012345678903",
            currency="GBP",
            balance=5000,
        )
        session.add(voucher)
        session.flush()
        entry = LedgerEntry(
            transaction_id="00000000-0000-4000-8000-000000000001",
            voucher_id=voucher.id,
            account_id=account.id,
            site_id=site.id,
            kind="sale",
            amount=5000,
            reference="r1",
        )
        session.add(entry)
    return entry


def test_ledger_entries_are_append_only(engine: Engine) -> None:
    sale = _one_entry(engine)
    attempts = [
        update(LedgerEntry).where(LedgerEntry.id == sale.id).values(amount=1),
        update(LedgerEntry).where(LedgerEntry.id == sale.id).values(reference="changed"),
        delete(LedgerEntry).where(LedgerEntry.id == sale.id),
        delete(LedgerEntry),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)

    with engine.connect() as connection:
        rows = connection.execute(select(LedgerEntry.amount, LedgerEntry.reference)).all()
    assert [tuple(r) for r in rows] == [(5000, "r1")]

    # Appending is what the table is for.
    with Session(engine) as session, session.begin():
        session.add(
            LedgerEntry(
                transaction_id="00000000-0000-4000-8000-000000000002",
                voucher_id=sale.voucher_id,
                account_id=sale.account_id,
                site_id=sale.site_id,
                kind="redemption",
                amount=-100,
                reference="r2",
            )
        )
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(LedgerEntry)) == 2


def test_voucher_balance_cannot_be_negative(engine: Engine) -> None:
    voucher_id = _one_entry(engine).voucher_id
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(update(Voucher).where(Voucher.id == voucher_id).values(balance=-1))

    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        original = session.get_one(Voucher, voucher_id)
        session.add(
            Voucher(
                account_id=original.account_id,
                product_id=original.product_id,
                code="6301190098765432105",
                currency="GBP",
                balance=-500,
            )
        )

    with engine.begin() as connection:
        connection.execute(update(Voucher).where(Voucher.id == voucher_id).values(balance=0))
    with engine.connect() as connection:
        balances = connection.execute(select(Voucher.balance)).scalars().all()
    assert balances == [0]
