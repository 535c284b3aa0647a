"""Voiding a transaction by the reference the till sent with it, whether or not the
ledger ever received it (till-api.md, "Void by the till's own reference").

The void first tries to record its original's reference as voided (a tombstone in the
idempotency records, under the same unique key as the original's own answer):

- it is recorded: the ledger never received the original, and, the tombstone
  committed with the void's answer, the original arriving later is refused (409
  transaction_voided, moving nothing) when it goes to record its own answer;
- the reference has a record already: the original (committed: the insert waited for
  an original still in flight) is reversed by the rules of
  ``POST /v1/vouchers/{code}/reverse``, under the voucher's row lock.

So whichever of the original and its void reaches the unique key first wins, and the
other goes as if it had come after it: never both, never neither. A record that is a
refusal (409) moved nothing, so there is nothing to undo; a record that is a tombstone
is a reference voided already (409 already_reversed).
"""

from __future__ import annotations

import json
import uuid

from api.core.errors import AlreadyReversed, NotReversible
from api.core.statements import Statements
from api.idempotency.service import (
    VOIDED,
    TillOutcome,
    first_answer,
    request_fingerprint,
    run_once,
    void_reference,
)
from api.reversals.schemas import VoidOut, VoidRequest
from api.till.caller import TillCaller
from api.vouchers import repository as vouchers
from api.vouchers.service import reverse_entry


def void(db: Statements, caller: TillCaller, request: VoidRequest) -> TillOutcome:
    site_id = caller.store_site()
    account_id, store_id = caller.account_id, request.store_id

    def operation() -> VoidOut:
        original = request.original_reference
        if void_reference(
            db, account_id=account_id, store_id=store_id, site_id=site_id, reference=original
        ):
            return _nothing_undone(caller)
        first = first_answer(db, account_id=account_id, store_id=store_id, reference=original)
        if first.request_hash == VOIDED:
            raise AlreadyReversed("This reference has already been voided.")
        if first.status_code != 201:
            return _nothing_undone(caller)  # it was refused: it moved nothing
        target = vouchers.entry_of_account(
            db, caller.account_id, json.loads(first.response_body)["transaction_id"]
        )
        if target is None:
            # Only a void of a reference never received answers 201 without an entry.
            raise NotReversible("A void cannot itself be voided.")
        voucher = vouchers.lock_by_id(db, target.voucher_id)
        reversal = reverse_entry(db, caller, site_id, store_id, voucher, target, request.reference)
        return VoidOut(**reversal.model_dump(), code=voucher.code)

    return run_once(
        db,
        account_id=account_id,
        store_id=store_id,
        site_id=site_id,
        reference=request.reference,
        fingerprint=request_fingerprint("void", request),
        operation=operation,
    )


def _nothing_undone(caller: TillCaller) -> VoidOut:
    return VoidOut(
        transaction_id=str(uuid.uuid4()),
        reversed_transaction_id=None,
        code=None,
        amount=0,
        balance=None,
        currency=caller.currency,
    )
