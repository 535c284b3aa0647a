"""The till's rules: sell, check, redeem, top up and reverse vouchers.

Every write goes through ``idempotency.run_once``; each checks everything it refuses
on before it changes anything, and changes the balance together with the ledger
entry that explains it, in the request's transaction (the route commits).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

from api.core.errors import (
    AlreadyReversed,
    BalanceLimitExceeded,
    InsufficientFunds,
    NotReversible,
    ProductNotFound,
    TransactionNotFound,
    TransactionVoided,
    VoucherCancelled,
    VoucherExpired,
    VoucherInUse,
    VoucherNotFound,
)
from api.core.statements import Statements
from api.core.types import utcnow
from api.idempotency.service import (
    VOIDED_DETAIL,
    TillOutcome,
    is_voided,
    request_fingerprint,
    run_once,
)
from api.merchants import repository as merchants_repository
from api.till.caller import TillCaller
from api.vouchers import cards, repository
from api.vouchers.models import EntryKind
from api.vouchers.repository import EntryView, LockedVoucher, VoucherView
from api.vouchers.schemas import (
    LoadRequest,
    MovementOut,
    RedeemRequest,
    ReversalOut,
    ReverseRequest,
    SaleOut,
    SellRequest,
    StatementEntry,
    StatementOut,
    VoucherOut,
    VoucherStatus,
)


class VoucherState(Protocol):
    """What a voucher's status and answer are worked out from (a Voucher, or the
    read-only view a balance check loads)."""

    @property
    def code(self) -> str: ...
    @property
    def balance(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def cancelled_at(self) -> datetime | None: ...


def status_of(voucher: VoucherState, now: datetime) -> VoucherStatus:
    if voucher.cancelled_at is not None:
        return "cancelled"
    if voucher.expires_at is not None and voucher.expires_at <= now:
        return "expired"
    if voucher.balance == 0:
        return "spent"
    return "active"


def voucher_out(voucher: VoucherState, now: datetime) -> VoucherOut:
    return VoucherOut(
        code=voucher.code,
        balance=voucher.balance,
        currency=voucher.currency,
        status=status_of(voucher, now),
        expires_at=voucher.expires_at,
    )


def lookup_code(code: str) -> str | None:
    """What a balance check looks its voucher up by, with the caller: the code
    normalised, or None when it could not be a card at all (so that, a NUL byte say,
    it never reaches the database)."""
    normalized = cards.normalize(code)
    return normalized if cards.card_shaped(normalized) else None


def readable_voucher(caller: TillCaller, voucher: VoucherView | None) -> VoucherView:
    """The voucher a balance check or statement answers about, read with the caller by
    ``lookup_code`` (None: no voucher of the account has that code, or it could not be
    a card at all): the store, then the code, in the contract's order."""
    caller.store_site()
    # Found, the code was card-shaped; it must be of the account's range too.
    if voucher is None or not voucher.code.startswith(caller.card_range):
        raise VoucherNotFound("No voucher with this code.")
    return voucher


def check_balance(caller: TillCaller, voucher: VoucherView | None) -> VoucherOut:
    return voucher_out(readable_voucher(caller, voucher), utcnow())


def statement_out(voucher: VoucherView, rows: Sequence[Mapping[str, Any]]) -> StatementOut:
    """The answer to a statement: ``rows`` are its entries, newest first, each with the
    voucher's balance beside it (till.statements.STATEMENT)."""
    return StatementOut(
        code=voucher.code,
        # Read with the entries, so that it is the newest entry's balance_after.
        balance=rows[0]["voucher_balance"] if rows else voucher.balance,
        currency=voucher.currency,
        transactions=[
            StatementEntry(
                transaction_id=row["transaction_id"],
                kind=row["kind"],
                amount=row["amount"],
                balance_after=row["balance_after"],
                store_id=row["store_id"],
                reference=row["reference"],
                created_at=row["created_at"].replace(microsecond=0),
                reversed_by=row["reversed_by"],
            )
            for row in rows
        ],
    )


def sell(db: Statements, caller: TillCaller, request: SellRequest) -> TillOutcome:
    site_id = caller.store_site()
    product = merchants_repository.product_for_sale(db, caller.account_id, request.product_id)
    if product is None or not product.in_store:
        refuse_if_voided(db, caller, request.store_id, request.reference)
        raise ProductNotFound("No in-store gift product with this ID on your account.")

    def operation() -> SaleOut:
        if caller.balance_cap is not None and request.amount > caller.balance_cap:
            raise BalanceLimitExceeded(
                f"A voucher on this account may hold at most {caller.balance_cap}."
            )
        now = utcnow()
        expires_at = None
        if product.validity_days is not None:
            expires_at = (now + timedelta(days=product.validity_days)).replace(microsecond=0)
        voucher = repository.add_voucher(
            db,
            account_id=caller.account_id,
            product_id=product.id,
            code=_unused_code(db, caller.card_range),
            currency=caller.currency,
            expires_at=expires_at,
            created_at=now,
        )
        transaction_id = _record(
            db,
            voucher,
            site_id,
            request.store_id,
            EntryKind.SALE,
            request.amount,
            request.reference,
        )
        return SaleOut(**voucher_out(voucher, now).model_dump(), transaction_id=transaction_id)

    return _once(db, caller, site_id, "sell", request, operation)


def redeem(db: Statements, caller: TillCaller, code: str, request: RedeemRequest) -> TillOutcome:
    site_id = caller.store_site()
    voucher = _find_voucher(db, caller, code)

    def operation() -> MovementOut:
        _refuse_unusable(voucher)
        taken = request.amount
        if voucher.balance < request.amount:
            if not request.allow_partial or voucher.balance == 0:
                raise InsufficientFunds(
                    f"The voucher holds {voucher.balance}; {request.amount} was asked for.",
                    balance=voucher.balance,
                )
            taken = voucher.balance
        transaction_id = _record(
            db,
            voucher,
            site_id,
            request.store_id,
            EntryKind.REDEMPTION,
            -taken,
            request.reference,
        )
        return _movement(voucher, transaction_id, taken)

    return _once(db, caller, site_id, "redeem", request, operation, code=voucher.code)


def load(db: Statements, caller: TillCaller, code: str, request: LoadRequest) -> TillOutcome:
    site_id = caller.store_site()
    voucher = _find_voucher(db, caller, code)

    def operation() -> MovementOut:
        _refuse_unusable(voucher)
        cap = caller.balance_cap
        if cap is not None and voucher.balance + request.amount > cap:
            raise BalanceLimitExceeded(
                f"A voucher on this account may hold at most {cap}; it holds {voucher.balance}."
            )
        transaction_id = _record(
            db,
            voucher,
            site_id,
            request.store_id,
            EntryKind.LOAD,
            request.amount,
            request.reference,
        )
        return _movement(voucher, transaction_id, request.amount)

    return _once(db, caller, site_id, "load", request, operation, code=voucher.code)


def reverse(db: Statements, caller: TillCaller, code: str, request: ReverseRequest) -> TillOutcome:
    site_id = caller.store_site()
    voucher = _find_voucher(db, caller, code)
    target = repository.entry_of_voucher(db, voucher.id, request.transaction_id)
    if target is None:
        refuse_if_voided(db, caller, request.store_id, request.reference)
        raise TransactionNotFound("This voucher has no transaction with that ID.")

    def operation() -> ReversalOut:
        return reverse_entry(
            db, caller, site_id, request.store_id, voucher, target, request.reference
        )

    return _once(db, caller, site_id, "reverse", request, operation, code=voucher.code)


def reverse_entry(
    db: Statements,
    caller: TillCaller,
    site_id: int,
    store_id: str,
    voucher: LockedVoucher,
    target: EntryView,
    reference: str,
) -> ReversalOut:
    """Undo ``target``, an entry of ``voucher`` (locked), whole, under ``reference``:
    the rules of a reversal, shared by reverse and the void by reference."""
    if target.kind == EntryKind.REVERSAL:
        raise NotReversible("A reversal cannot itself be reversed.")
    if repository.is_reversed(db, target.id):
        raise AlreadyReversed("This transaction has already been reversed.")
    if target.kind == EntryKind.LOAD and voucher.balance < target.amount:
        raise InsufficientFunds(
            f"The top-up of {target.amount} has been spent; the voucher holds {voucher.balance}.",
            balance=voucher.balance,
        )
    if target.kind == EntryKind.SALE:
        if repository.has_unreversed_movements(db, voucher.id):
            raise VoucherInUse("Reverse the voucher's other transactions before its sale.")
        voucher.cancelled_at = utcnow()
        # With every other movement undone the balance is the sale's amount; take it all.
        delta = -voucher.balance
    else:
        delta = -target.amount
    cap = caller.balance_cap
    if cap is not None and delta > 0 and voucher.balance + delta > cap:
        # The cap is a hard limit: undoing a redemption may not break it either.
        raise BalanceLimitExceeded(
            f"A voucher on this account may hold at most {cap}; it holds {voucher.balance}."
        )
    transaction_id = _record(
        db,
        voucher,
        site_id,
        store_id,
        EntryKind.REVERSAL,
        delta,
        reference,
        reverses=target,
    )
    return ReversalOut(
        transaction_id=transaction_id,
        reversed_transaction_id=target.transaction_id,
        amount=abs(target.amount),
        balance=voucher.balance,
        currency=voucher.currency,
    )


def refuse_if_voided(db: Statements, caller: TillCaller, store_id: str, reference: str) -> None:
    """Before a 404 about something the body names (a product, a transaction): a
    reference voided already answers 409 transaction_voided whatever its body said.
    Only refusals pay for this look-up; every other late original finds the void when
    it records its answer (idempotency.run_once)."""
    if is_voided(db, account_id=caller.account_id, store_id=store_id, reference=reference):
        raise TransactionVoided(VOIDED_DETAIL)


def _well_formed(code: str, caller: TillCaller) -> str:
    """The code normalised; a malformed code gets an unknown code's answer (before
    any voucher is locked for it)."""
    normalized = cards.normalize(code)
    if not cards.well_formed(normalized, caller.card_range):
        raise VoucherNotFound("No voucher with this code.")
    return normalized


def _find_voucher(db: Statements, caller: TillCaller, code: str) -> LockedVoucher:
    """The voucher, its row locked for the change the caller is about to make."""
    voucher = repository.lock(db, caller.account_id, _well_formed(code, caller))
    if voucher is None:
        raise VoucherNotFound("No voucher with this code.")
    return voucher


def _refuse_unusable(voucher: LockedVoucher) -> None:
    status = status_of(voucher, utcnow())
    if status == "cancelled":
        raise VoucherCancelled("This voucher has been cancelled.")
    if status == "expired":
        raise VoucherExpired("This voucher has expired.")


def _unused_code(db: Statements, card_range: str) -> str:
    while True:
        code = cards.generate(card_range)
        if not repository.code_taken(db, code):
            return code


def _record(
    db: Statements,
    voucher: LockedVoucher,
    site_id: int,
    store_id: str,
    kind: EntryKind,
    amount: int,
    reference: str,
    *,
    reverses: EntryView | None = None,
) -> str:
    """Write the entry and move the balance by the same amount, together (with any
    change the caller made to the voucher); returns the entry's transaction ID."""
    voucher.balance += amount
    transaction_id = str(uuid.uuid4())
    repository.add_entry(
        db,
        transaction_id=transaction_id,
        voucher_id=voucher.id,
        account_id=voucher.account_id,
        site_id=site_id,
        store_id=store_id,
        kind=kind,
        amount=amount,
        reference=reference,
        reverses_entry_id=reverses.id if reverses is not None else None,
        created_at=utcnow(),
    )
    repository.save(db, voucher)
    return transaction_id


def _movement(voucher: LockedVoucher, transaction_id: str, amount: int) -> MovementOut:
    return MovementOut(
        transaction_id=transaction_id,
        amount=amount,
        balance=voucher.balance,
        currency=voucher.currency,
    )


def _once(
    db: Statements,
    caller: TillCaller,
    site_id: int,
    operation_name: str,
    request: SellRequest | RedeemRequest | LoadRequest | ReverseRequest,
    operation: Callable[[], BaseModel],
    code: str = "",
) -> TillOutcome:
    return run_once(
        db,
        account_id=caller.account_id,
        store_id=request.store_id,
        site_id=site_id,
        reference=request.reference,
        fingerprint=request_fingerprint(operation_name, request, code=code),
        operation=operation,
    )
