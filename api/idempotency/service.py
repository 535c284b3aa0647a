"""Exactly-once answers to till writes.

Each write does its work and then records its answer under its (account, store ID as
the till sent it, reference), in the same transaction, with one insert that does nothing when the
reference already has a record. When it has (a retry, or a twin that arrived while
the first was in flight and waited for it: PostgreSQL on the unique index or the
voucher's row lock, SQLite on the write lock), the work is rolled back and the first
answer is given again. Business refusals (409) are recorded like successes; errors
raised before the ledger acted (403, 404, 422) roll back and leave no record.

The answer is recorded last rather than claimed first, because a claim then had to be
completed by a second statement: one more round trip on every write (bench/), where
only retries pay for the work they undo.

A void by reference (POST /v1/reversals) of a reference the ledger never received
records a tombstone under that reference: a record like any other (the same unique
key, so the database decides a race between the void and its original), marked
``VOIDED``, answering 409 transaction_voided. The original, arriving late, does its
work, finds the tombstone when it records its answer, and is rolled back: it costs the
writes that succeed nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from api.core.errors import IdempotencyConflict, Refusal, TransactionVoided
from api.core.statements import Statements
from api.idempotency import repository
from api.idempotency.repository import RecordView

# A tombstone's request_hash: not a sha256 in hex, so no request's fingerprint is it.
VOIDED = "voided"
VOIDED_DETAIL = (
    "This reference was voided before the ledger received it; the request moved nothing."
)


@dataclass(frozen=True)
class TillOutcome:
    status: int
    body: str  # the JSON text sent, kept byte for byte for replays
    replayed: bool

    @property
    def is_problem(self) -> bool:
        return self.status >= 400


def request_fingerprint(operation: str, request: BaseModel, **identity: str) -> str:
    """sha256 of the request after defaults are applied (so omitted == default)."""
    canonical = {"operation": operation, **identity, **request.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def run_once(
    db: Statements,
    *,
    account_id: int,
    store_id: str,
    site_id: int,
    reference: str,
    fingerprint: str,
    operation: Callable[[], BaseModel],
) -> TillOutcome:
    status: int
    payload: dict[str, Any]
    try:
        payload = operation().model_dump(mode="json")
        status = 201
    except Refusal as refusal:
        payload = refusal.problem()
        status = refusal.status
    body = json.dumps(payload, separators=(",", ":"))
    if repository.record(db, account_id, store_id, site_id, reference, fingerprint, status, body):
        return TillOutcome(status, body, replayed=False)

    # Answered before: undo this call's work, and give the first answer again.
    db.rollback()
    first = repository.get(db, account_id, store_id, reference)
    assert first is not None  # the record's insert found it
    if first.request_hash == VOIDED:
        # Not a replay of this request: the void's answer to whatever the original was.
        return TillOutcome(first.status_code, first.response_body, replayed=False)
    if first.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This reference was already used at this store for a different request."
        )
    return TillOutcome(first.status_code, first.response_body, replayed=True)


def void_reference(
    db: Statements, *, account_id: int, store_id: str, site_id: int, reference: str
) -> bool:
    """Record ``reference`` (at ``store_id``) as voided, unless it has a record already:
    True when it had none (the ledger never received it). Runs in the void's
    transaction: an uncommitted original under the same reference makes it wait for
    that one to end (PostgreSQL's unique index; SQLite's write lock), and a void undone
    (rolled back) leaves no tombstone."""
    body = json.dumps(TransactionVoided(VOIDED_DETAIL).problem(), separators=(",", ":"))
    status = TransactionVoided.status
    return repository.record(db, account_id, store_id, site_id, reference, VOIDED, status, body)


def first_answer(db: Statements, *, account_id: int, store_id: str, reference: str) -> RecordView:
    """The committed record of ``reference`` (after ``void_reference`` found one)."""
    first = repository.get(db, account_id, store_id, reference)
    assert first is not None
    return first


def is_voided(db: Statements, *, account_id: int, store_id: str, reference: str) -> bool:
    first = repository.get(db, account_id, store_id, reference)
    return first is not None and first.request_hash == VOIDED
