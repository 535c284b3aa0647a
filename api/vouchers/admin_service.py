"""Back-office reads over vouchers: one voucher's ledger, and reconciliation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.core.errors import VoucherNotFound
from api.core.types import utcnow
from api.vouchers import cards, repository
from api.vouchers.admin_schemas import (
    EntryOut,
    Mismatch,
    ReconciliationOut,
    VoucherLedgerOut,
)
from api.vouchers.service import status_of


def voucher_ledger(session: Session, code: str) -> VoucherLedgerOut:
    normalized = cards.normalize(code)
    # Anything but 19 digits names no voucher: answered without a query, so that
    # input such as a NUL byte never reaches the database.
    is_digits = normalized.isascii() and normalized.isdigit()
    voucher = None
    if len(normalized) == cards.CODE_LENGTH and is_digits:
        voucher = repository.find_any(session, normalized)
    if voucher is None:
        raise VoucherNotFound("No voucher with this code.")
    entries = repository.entries(session, voucher.id)
    by_id = {entry.id: entry.transaction_id for entry in entries}
    return VoucherLedgerOut(
        code=voucher.code,
        account_id=voucher.account_id,
        product_id=voucher.product_id,
        balance=voucher.balance,
        currency=voucher.currency,
        status=status_of(voucher, utcnow()),
        expires_at=voucher.expires_at,
        entries_total=sum(entry.amount for entry in entries),
        entries=[
            EntryOut(
                transaction_id=entry.transaction_id,
                kind=entry.kind,
                amount=entry.amount,
                site_id=entry.site_id,
                store_id=entry.store_id,
                reference=entry.reference,
                reverses_transaction_id=(
                    by_id.get(entry.reverses_entry_id) if entry.reverses_entry_id else None
                ),
                created_at=entry.created_at,
            )
            for entry in entries
        ],
    )


def reconcile(session: Session) -> ReconciliationOut:
    checked, rows = repository.mismatched_balances(session)
    mismatches = [
        Mismatch(voucher_id=vid, code=code, balance=balance, entries_total=total)
        for vid, code, balance, total in rows
    ]
    return ReconciliationOut(
        vouchers_checked=checked, balanced=not mismatches, mismatches=mismatches
    )
