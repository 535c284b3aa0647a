"""Exactly-once answers to till writes.

Each write claims its (account, store, reference) first, inside the request's
transaction. A twin that arrives while the first is in flight blocks on that claim
(PostgreSQL: the unique index; SQLite: the write lock), then finds the committed
record and gets its answer back. Business refusals (409) are recorded like
successes; errors raised before the ledger acted (403, 404, 422) roll the claim back
with the transaction and leave no record.
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
    site_id: int,
    reference: str,
    fingerprint: str,
    operation: Callable[[], BaseModel],
) -> TillOutcome:
    claim_id = repository.claim(session, account_id, site_id, reference, fingerprint)
    if claim_id is None:
        record = repository.get(session, account_id, site_id, reference)
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                "This reference was already used at this store for a different request."
            )
        return TillOutcome(record.status_code, record.response_body, replayed=True)

    status: int
    payload: dict[str, Any]
    try:
        payload = operation().model_dump(mode="json")
        status = 201
    except Refusal as refusal:
        payload = refusal.problem()
        status = refusal.status
    body = json.dumps(payload, separators=(",", ":"))
    repository.complete(session, claim_id, status, body)
    return TillOutcome(status, body, replayed=False)
