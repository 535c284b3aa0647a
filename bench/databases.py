"""The benchmark's own databases: a SQLite file under a temp dir, or a fresh PostgreSQL
database created for the run and dropped after it. Both are migrated and seeded with
one merchant (production argon2 on its credential) and many vouchers."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import insert

from api.core.config import Settings
from api.core.context import LedgerContext
from api.core.migrate import upgrade
from api.core.types import utcnow
from api.credentials import service as credentials
from api.merchants import service as merchants
from api.merchants.schemas import AccountCreate, ProductCreate, SiteCreate, StoreIdAssignment
from api.vouchers import cards
from api.vouchers.models import EntryKind, LedgerEntry, Voucher

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
STORE_ID = "BENCH-STORE-1"
# Enough on every voucher that no redemption in any run finds it short.
VOUCHER_BALANCE = 100_000_000


@dataclass(frozen=True)
class Seeded:
    account_id: int
    product_id: int
    site_id: int
    store_id: str
    username: str
    password: str
    codes: list[str]
    first_voucher_id: int
    last_voucher_id: int


@contextmanager
def bench_database(backend: str, folder: Path) -> Iterator[str]:
    """A migrated, empty ledger database for this run; PostgreSQL's is dropped after."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'ledger.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"ledger_bench_{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        url = POSTGRES_URL.format(name=name)
        upgrade(url)
        yield url
    finally:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_sql(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)


def production_settings(database_url: str, admin_token: str) -> Settings:
    """The ledger's production settings: argon2-cffi's default costs, no shortcuts."""
    return Settings(
        environment="production",
        database_url=database_url,
        admin_token=admin_token,
        # Required in production; the benchmark opens no store-ID page.
        store_id_link_key=admin_token,
        prefect_api_url="http://127.0.0.1:9/api",
    )


def seed(settings: Settings, vouchers: int) -> Seeded:
    """One merchant with a store and a till credential, and ``vouchers`` sold vouchers
    (each with its sale entry, so that reconciliation balances from the start)."""
    context = LedgerContext.from_settings(settings)
    try:
        with context.db.writer() as session:
            account = merchants.create_account(session, AccountCreate(name="Bench merchant"))
            product = merchants.create_product(session, account.id, ProductCreate(name="Gift"))
            site, _ = merchants.add_site(
                session, account.id, SiteCreate(name="Bench", address="1 Load St", reference="b1")
            )
            merchants.set_store_ids(
                session, account.id, [StoreIdAssignment(site_id=site.id, store_id=STORE_ID)]
            )
            issued = credentials.create(session, context, account.id, label="bench till")
            codes = _codes(account.card_range, vouchers)
            now = utcnow()
            ids = list(
                session.scalars(
                    insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True),
                    [
                        {
                            "account_id": account.id,
                            "product_id": product.id,
                            "code": code,
                            "currency": account.currency,
                            "balance": VOUCHER_BALANCE,
                            "created_at": now,
                        }
                        for code in codes
                    ],
                )
            )
            session.execute(
                insert(LedgerEntry),
                [
                    {
                        "transaction_id": str(uuid.uuid4()),
                        "voucher_id": voucher_id,
                        "account_id": account.id,
                        "site_id": site.id,
                        "kind": EntryKind.SALE,
                        "amount": VOUCHER_BALANCE,
                        "reference": f"seed-{voucher_id}",
                        "created_at": now,
                    }
                    for voucher_id in ids
                ],
            )
            session.commit()
            return Seeded(
                account_id=account.id,
                product_id=product.id,
                site_id=site.id,
                store_id=STORE_ID,
                username=issued.user.username,
                password=issued.password,
                codes=codes,
                first_voucher_id=min(ids),
                last_voucher_id=max(ids),
            )
    finally:
        context.close()


def seed_other_merchant(settings: Settings) -> str:
    """Another merchant with a till credential: the username an attack guesses
    passwords for (bench.attack). Returns the username."""
    context = LedgerContext.from_settings(settings)
    try:
        with context.db.writer() as session:
            account = merchants.create_account(session, AccountCreate(name="Other merchant"))
            issued = credentials.create(session, context, account.id, label="other till")
            session.commit()
            return issued.user.username
    finally:
        context.close()


def _codes(card_range: str, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(cards.generate(card_range))
    return sorted(codes, key=lambda _: secrets.randbits(32))
