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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.core.errors import IdempotencyConflict, Refusal
from api.idempotency import repository


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
    session: Session,
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
    if repository.record(
        session, account_id, store_id, site_id, reference, fingerprint, status, body
    ):
        return TillOutcome(status, body, replayed=False)

    # Answered before: undo this call's work, and give the first answer again.
    session.rollback()
    first = repository.get(session, account_id, store_id, reference)
    if first.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This reference was already used at this store for a different request."
        )
    return TillOutcome(first.status_code, first.response_body, replayed=True)
