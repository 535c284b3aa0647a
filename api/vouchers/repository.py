"""Queries for vouchers and ledger entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

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


# The till writes' statements, built once and run on the session's connection : the ORM's unit of work cost more CPU than everything else
# in a redemption.
# Labelled with LockedVoucher's fields: rows are mapped by name.
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
    # PostgreSQL holds the row until commit; SQLite already holds its write lock.
    .with_for_update()
)
# The same, for a voucher known by its row (a void by reference finds it from its entry).
_LOCK_BY_ID = (
    select(*_LOCKED_COLUMNS).where(Voucher.id == bindparam("voucher_id")).with_for_update()
)
_CODE_TAKEN = select(exists().where(Voucher.code == bindparam("code")))
_ADD_VOUCHER = insert(Voucher).returning(Voucher.id)
_SAVE = (
    update(Voucher)
    .where(Voucher.id == bindparam("voucher_id"))
    .values(balance=bindparam("new_balance"), cancelled_at=bindparam("new_cancelled_at"))
)
_ADD_ENTRY = insert(LedgerEntry)


def lock(session: Session, account_id: int, code: str) -> LockedVoucher | None:
    values = {"code": code, "account_id": account_id}
    row = session.connection().execute(_LOCK, values).mappings().first()
    return None if row is None else LockedVoucher(**row)


def lock_by_id(session: Session, voucher_id: int) -> LockedVoucher:
    row = session.connection().execute(_LOCK_BY_ID, {"voucher_id": voucher_id}).mappings().one()
    return LockedVoucher(**row)


def code_taken(session: Session, code: str) -> bool:
    return bool(session.connection().execute(_CODE_TAKEN, {"code": code}).scalar())


def add_voucher(
    session: Session,
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
    voucher_id = session.connection().execute(_ADD_VOUCHER, values).scalar_one()
    return LockedVoucher(voucher_id, account_id, code, 0, currency, expires_at, None)


def save(session: Session, voucher: LockedVoucher) -> None:
    session.connection().execute(
        _SAVE,
        {
            "voucher_id": voucher.id,
            "new_balance": voucher.balance,
            "new_cancelled_at": voucher.cancelled_at,
        },
    )


def add_entry(
    session: Session,
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
    session.connection().execute(
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


def entry_of_voucher(session: Session, voucher_id: int, transaction_id: str) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.voucher_id == voucher_id, LedgerEntry.transaction_id == transaction_id
        )
    ).first()


def entry_of_account(session: Session, account_id: int, transaction_id: str) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.account_id == account_id, LedgerEntry.transaction_id == transaction_id
        )
    ).first()


def is_reversed(session: Session, entry_id: int) -> bool:
    return (
        session.scalar(select(exists().where(LedgerEntry.reverses_entry_id == entry_id))) or False
    )


def has_unreversed_movements(session: Session, voucher_id: int) -> bool:
    """True while a top-up or redemption on the voucher stands unreversed."""
    reversal = aliased(LedgerEntry)
    return (
        session.scalar(
            select(
                exists().where(
                    LedgerEntry.voucher_id == voucher_id,
                    LedgerEntry.kind.in_([EntryKind.LOAD, EntryKind.REDEMPTION]),
                    ~exists().where(reversal.reverses_entry_id == LedgerEntry.id),
                )
            )
        )
        or False
    )


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
