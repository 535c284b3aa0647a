"""The till's reads, as SQLAlchemy Core statements compiled once per driver
(api.core.statements): run straight on asyncpg on PostgreSQL and sqlite3 on SQLite,
from the event loop, with rows as mappings by column name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Insert,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased

from api.core.statements import Prepared
from api.core.types import UTCDateTime
from api.credentials.models import CredentialStoreUse, IntegrationUser
from api.merchants.models import Account, Site
from api.throttle.models import LookupFailure
from api.vouchers.models import LedgerEntry, Voucher

AnySelect = Select[*tuple[Any, ...]]

# --- The credential, for the gate (authentication) --------------------------------

# A revoked user is as good as none here (authentication caches only usable ones).
CREDENTIAL = select(
    IntegrationUser.id.label("user_id"),
    IntegrationUser.password_hash.label("password_hash"),
).where(IntegrationUser.username == bindparam("username"), IntegrationUser.revoked_at.is_(None))

# --- The caller at a store: every till call reads it first ------------------------
# Whether it is revoked (or its password's hash changed), its account, the failed
# look-up that throttles it now (the ``max_failures``-th newest in the window, if any)
# and the site behind the store ID, in one statement; a balance check or statement
# also reads its voucher with it.

_THROTTLING_FAILURE = (
    select(LookupFailure.failed_at)
    .where(
        LookupFailure.integration_user_id == IntegrationUser.id,
        LookupFailure.failed_at > bindparam("failures_since"),
    )
    .order_by(LookupFailure.failed_at.desc())
    .limit(1)
    .offset(bindparam("failure_offset"))
    .correlate(IntegrationUser)
    .scalar_subquery()
)
_STORE_SITE = (
    select(Site.id)
    .where(Site.account_id == Account.id, Site.store_id == bindparam("store_id"))
    .correlate(Account)
    .scalar_subquery()
)
CALLER = (
    select(
        IntegrationUser.revoked_at.label("revoked_at"),
        IntegrationUser.password_hash.label("password_hash"),
        Account.id.label("account_id"),
        Account.card_range.label("card_range"),
        Account.currency.label("currency"),
        Account.balance_cap.label("balance_cap"),
        _THROTTLING_FAILURE.label("throttling_failure_at"),
        _STORE_SITE.label("site_id"),
    )
    .join(Account, Account.id == IntegrationUser.account_id)
    .where(IntegrationUser.id == bindparam("user_id"))
)
CALLER_AND_VOUCHER = CALLER.add_columns(
    Voucher.id.label("voucher_id"),
    Voucher.code.label("voucher_code"),
    Voucher.balance.label("voucher_balance"),
    Voucher.currency.label("voucher_currency"),
    Voucher.expires_at.label("voucher_expires_at"),
    Voucher.cancelled_at.label("voucher_cancelled_at"),
).outerjoin(
    Voucher,
    and_(Voucher.account_id == Account.id, Voucher.code == bindparam("voucher_code")),
)

# --- A voucher's statement ----------------------------------------------------------

STATEMENT_LENGTH = 100


def _statement(*, before: bool) -> AnySelect:
    """A voucher's newest entries (older than the ``before`` entry, when given), each
    with the balance after it and the reversal that undid it, and the voucher's balance
    beside them (the same snapshot): one statement."""
    history = (
        select(
            LedgerEntry.id,
            LedgerEntry.transaction_id,
            LedgerEntry.kind,
            LedgerEntry.amount,
            # PostgreSQL sums BIGINT as NUMERIC: back to an integer.
            cast(func.sum(LedgerEntry.amount).over(order_by=LedgerEntry.id), BigInteger).label(
                "balance_after"
            ),
            LedgerEntry.store_id,
            LedgerEntry.reference,
            LedgerEntry.created_at,
        )
        .where(LedgerEntry.voucher_id == bindparam("voucher_id"))
        .subquery()
    )
    reversal = aliased(LedgerEntry)
    query = (
        select(
            history.c.transaction_id.label("transaction_id"),
            history.c.kind.label("kind"),
            history.c.amount.label("amount"),
            history.c.balance_after.label("balance_after"),
            history.c.store_id.label("store_id"),
            history.c.reference.label("reference"),
            history.c.created_at.label("created_at"),
            reversal.transaction_id.label("reversed_by"),
            Voucher.balance.label("voucher_balance"),
        )
        .select_from(history)
        .join(Voucher, Voucher.id == bindparam("voucher_id"))
        .outerjoin(reversal, reversal.reverses_entry_id == history.c.id)
        .order_by(history.c.id.desc())
        .limit(STATEMENT_LENGTH)
    )
    if before:
        # An unknown transaction ID (or another voucher's) names no place: no entries.
        cursor = (
            select(LedgerEntry.id)
            .where(
                LedgerEntry.transaction_id == bindparam("before"),
                LedgerEntry.voucher_id == bindparam("voucher_id"),
            )
            .scalar_subquery()
        )
        query = query.where(history.c.id < cursor)
    return query


STATEMENT = _statement(before=False)
STATEMENT_BEFORE = _statement(before=True)


# --- A credential's first use at a store (api.till.store_uses) ------------------------
# Insert-if-absent, and only for a store ID of the credential's own account (the answer
# said so already; this keeps the table true if the store was unmapped meanwhile).


def note_store_use(dialect: Dialect) -> Insert:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    store_of_the_account = exists().where(
        IntegrationUser.id == bindparam("user_id"),
        Site.account_id == IntegrationUser.account_id,
        Site.store_id == bindparam("store_id"),
    )
    values = select(
        bindparam("user_id", type_=Integer),
        bindparam("store_id", type_=String),
        bindparam("now", type_=UTCDateTime()),
    ).where(store_of_the_account)
    columns = ["integration_user_id", "store_id", "first_used_at"]
    return insert(CredentialStoreUse).from_select(columns, values).on_conflict_do_nothing()


# A rotation's new credential seen at one of the account's stores: the credential it
# replaces is revoked in the same transaction (the tills have switched; a rotation's
# run closes its record afterwards, api/credentials/polaris.complete_rotation).
_NEW = aliased(IntegrationUser)
RETIRE_REPLACED = (
    update(IntegrationUser)
    .where(
        IntegrationUser.revoked_at.is_(None),
        IntegrationUser.id
        == select(_NEW.replaces_id).where(_NEW.id == bindparam("user_id")).scalar_subquery(),
        exists().where(CredentialStoreUse.integration_user_id == bindparam("user_id")),
    )
    .values(revoked_at=bindparam("now", type_=UTCDateTime()))
)


@dataclass(frozen=True)
class TillStatements:
    """Every till read, compiled for one database's driver."""

    credential: Prepared
    caller: Prepared
    caller_and_voucher: Prepared
    statement: Prepared
    statement_before: Prepared
    note_store_use: Prepared
    retire_replaced: Prepared

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> TillStatements:
        return cls(
            credential=Prepared.compile(CREDENTIAL, dialect),
            caller=Prepared.compile(CALLER, dialect),
            caller_and_voucher=Prepared.compile(CALLER_AND_VOUCHER, dialect),
            statement=Prepared.compile(STATEMENT, dialect),
            statement_before=Prepared.compile(STATEMENT_BEFORE, dialect),
            note_store_use=Prepared.compile(note_store_use(dialect), dialect),
            retire_replaced=Prepared.compile(RETIRE_REPLACED, dialect),
        )
