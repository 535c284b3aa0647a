"""Queries for vouchers and ledger entries."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from api.vouchers.models import EntryKind, LedgerEntry, Voucher


def find(session: Session, account_id: int, code: str, *, lock: bool) -> Voucher | None:
    statement = select(Voucher).where(Voucher.code == code, Voucher.account_id == account_id)
    if lock:
        # PostgreSQL holds the row until commit; SQLite already holds its write lock.
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def code_taken(session: Session, code: str) -> bool:
    return session.scalar(select(exists().where(Voucher.code == code))) or False


def entry_of_voucher(session: Session, voucher_id: int, transaction_id: str) -> LedgerEntry | None:
    return session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.voucher_id == voucher_id, LedgerEntry.transaction_id == transaction_id
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
        select(Voucher.id, Voucher.code, Voucher.balance, total)
        .outerjoin(sums, sums.c.voucher_id == Voucher.id)
        .where(Voucher.balance != total)
        .order_by(Voucher.id)
    ).all()
    return checked, [(r[0], r[1], r[2], int(r[3])) for r in rows]
