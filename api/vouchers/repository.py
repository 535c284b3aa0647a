"""Queries for vouchers and ledger entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from api.core.statements import Statements, insert_of
from api.vouchers.models import EntryKind, LedgerEntry, Voucher


@dataclass(frozen=True)
class VoucherView:
    """A voucher as a balance check shows it (read, not changed): read together with
    the caller (till.statements.CALLER_AND_VOUCHER)."""

    code: str
    balance: int
    currency: str
    expires_at: datetime | None
    cancelled_at: datetime | None
    id: int


@dataclass
class LockedVoucher:
    """A voucher read for a change, its row locked until the transaction ends; the
    service changes ``balance`` and ``cancelled_at`` here and then ``save``s them."""

    id: int
    account_id: int
    code: str
    balance: int
    currency: str
    expires_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class EntryView:
    """A ledger entry as a reversal needs it (a transaction of the voucher, undone)."""

    id: int
    transaction_id: str
    kind: str
    amount: int
    voucher_id: int


# The till writes' statements (the SQLite path's: api.till.sqlite runs them on the
# driver itself; PostgreSQL's writes are functions, migration 0005), labelled with the
# fields they fill: rows are mapped by name.
_LOCKED_COLUMNS = (
    Voucher.id.label("id"),
    Voucher.account_id.label("account_id"),
    Voucher.code.label("code"),
    Voucher.balance.label("balance"),
    Voucher.currency.label("currency"),
    Voucher.expires_at.label("expires_at"),
    Voucher.cancelled_at.label("cancelled_at"),
)
_LOCK = (
    select(*_LOCKED_COLUMNS)
    .where(Voucher.code == bindparam("code"), Voucher.account_id == bindparam("account_id"))
    # PostgreSQL would hold the row until commit; SQLite already holds its write lock.
    .with_for_update()
)
# The same, for a voucher known by its row (a void by reference finds it from its entry).
_LOCK_BY_ID = (
    select(*_LOCKED_COLUMNS).where(Voucher.id == bindparam("voucher_id")).with_for_update()
)
_CODE_TAKEN = select(exists().where(Voucher.code == bindparam("code")).label("taken"))
_ADD_VOUCHER = insert_of(
    Voucher,
    "account_id",
    "product_id",
    "code",
    "currency",
    "balance",
    "expires_at",
    "cancelled_at",
    "created_at",
).returning(Voucher.id.label("id"))
_SAVE = (
    update(Voucher)
    .where(Voucher.id == bindparam("voucher_id"))
    .values(balance=bindparam("new_balance"), cancelled_at=bindparam("new_cancelled_at"))
)
_ADD_ENTRY = insert_of(
    LedgerEntry,
    "transaction_id",
    "voucher_id",
    "account_id",
    "site_id",
    "store_id",
    "kind",
    "amount",
    "reference",
    "reverses_entry_id",
    "created_at",
)
_ENTRY_COLUMNS = (
    LedgerEntry.id.label("id"),
    LedgerEntry.transaction_id.label("transaction_id"),
    LedgerEntry.kind.label("kind"),
    LedgerEntry.amount.label("amount"),
    LedgerEntry.voucher_id.label("voucher_id"),
)
_ENTRY_OF_VOUCHER = select(*_ENTRY_COLUMNS).where(
    LedgerEntry.voucher_id == bindparam("voucher_id"),
    LedgerEntry.transaction_id == bindparam("transaction_id"),
)
_ENTRY_OF_ACCOUNT = select(*_ENTRY_COLUMNS).where(
    LedgerEntry.account_id == bindparam("account_id"),
    LedgerEntry.transaction_id == bindparam("transaction_id"),
)
_IS_REVERSED = select(
    exists().where(LedgerEntry.reverses_entry_id == bindparam("entry_id")).label("reversed")
)
_reversal = aliased(LedgerEntry)
_HAS_UNREVERSED_MOVEMENTS = select(
    exists()
    .where(
        LedgerEntry.voucher_id == bindparam("voucher_id"),
        # Parameters with their values (not an expanding IN list: compiled once, alone).
        LedgerEntry.kind.in_(
            [
                bindparam("load", str(EntryKind.LOAD)),
                bindparam("redemption", str(EntryKind.REDEMPTION)),
            ]
        ),
        ~exists().where(_reversal.reverses_entry_id == LedgerEntry.id),
    )
    .label("standing")
)


def lock(db: Statements, account_id: int, code: str) -> LockedVoucher | None:
    row = db.first(_LOCK, {"code": code, "account_id": account_id})
    return None if row is None else LockedVoucher(**row)


def lock_by_id(db: Statements, voucher_id: int) -> LockedVoucher:
    row = db.first(_LOCK_BY_ID, {"voucher_id": voucher_id})
    assert row is not None, f"voucher {voucher_id} is gone"  # an entry's voucher: never
    return LockedVoucher(**row)


def code_taken(db: Statements, code: str) -> bool:
    row = db.first(_CODE_TAKEN, {"code": code})
    return bool(row and row["taken"])


def add_voucher(
    db: Statements,
    *,
    account_id: int,
    product_id: int,
    code: str,
    currency: str,
    expires_at: datetime | None,
    created_at: datetime,
) -> LockedVoucher:
    """A new voucher with a zero balance (its sale entry moves the money onto it)."""
    values = {
        "account_id": account_id,
        "product_id": product_id,
        "code": code,
        "currency": currency,
        "balance": 0,
        "expires_at": expires_at,
        "cancelled_at": None,
        "created_at": created_at,
    }
    (row,) = db.rows(_ADD_VOUCHER, values)
    return LockedVoucher(row["id"], account_id, code, 0, currency, expires_at, None)


def save(db: Statements, voucher: LockedVoucher) -> None:
    db.run(
        _SAVE,
        {
            "voucher_id": voucher.id,
            "new_balance": voucher.balance,
            "new_cancelled_at": voucher.cancelled_at,
        },
    )


def add_entry(
    db: Statements,
    *,
    transaction_id: str,
    voucher_id: int,
    account_id: int,
    site_id: int,
    store_id: str,
    kind: EntryKind,
    amount: int,
    reference: str,
    reverses_entry_id: int | None,
    created_at: datetime,
) -> None:
    db.run(
        _ADD_ENTRY,
        {
            "transaction_id": transaction_id,
            "voucher_id": voucher_id,
            "account_id": account_id,
            "site_id": site_id,
            "store_id": store_id,
            "kind": str(kind),
            "amount": amount,
            "reference": reference,
            "reverses_entry_id": reverses_entry_id,
            "created_at": created_at,
        },
    )


def entry_of_voucher(db: Statements, voucher_id: int, transaction_id: str) -> EntryView | None:
    row = db.first(_ENTRY_OF_VOUCHER, {"voucher_id": voucher_id, "transaction_id": transaction_id})
    return None if row is None else EntryView(**row)


def entry_of_account(db: Statements, account_id: int, transaction_id: str) -> EntryView | None:
    row = db.first(_ENTRY_OF_ACCOUNT, {"account_id": account_id, "transaction_id": transaction_id})
    return None if row is None else EntryView(**row)


def is_reversed(db: Statements, entry_id: int) -> bool:
    row = db.first(_IS_REVERSED, {"entry_id": entry_id})
    return bool(row and row["reversed"])


def has_unreversed_movements(db: Statements, voucher_id: int) -> bool:
    """True while a top-up or redemption on the voucher stands unreversed."""
    row = db.first(_HAS_UNREVERSED_MOVEMENTS, {"voucher_id": voucher_id})
    return bool(row and row["standing"])


def find_any(session: Session, code: str) -> Voucher | None:
    return session.scalars(select(Voucher).where(Voucher.code == code)).first()


def entries(session: Session, voucher_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.voucher_id == voucher_id).order_by(LedgerEntry.id)
        )
    )


def mismatched_balances(session: Session) -> tuple[int, list[tuple[int, str, int, int]]]:
    """(vouchers checked, [(voucher id, code, balance, sum of entries)] where they differ)."""
    sums = (
        select(
            LedgerEntry.voucher_id, func.coalesce(func.sum(LedgerEntry.amount), 0).label("total")
        )
        .group_by(LedgerEntry.voucher_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    checked = session.scalar(select(func.count()).select_from(Voucher)) or 0
    rows = session.execute(
        select(
            Voucher.id.label("voucher_id"),
            Voucher.code.label("code"),
            Voucher.balance.label("balance"),
            total.label("entries_total"),
        )
        .outerjoin(sums, sums.c.voucher_id == Voucher.id)
        .where(Voucher.balance != total)
        .order_by(Voucher.id)
    ).all()
    return checked, [(r.voucher_id, r.code, r.balance, int(r.entries_total)) for r in rows]
