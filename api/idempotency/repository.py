"""Queries for idempotency records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.core.types import utcnow
from api.idempotency.models import IdempotencyRecord


def _record_statement(insert: Any) -> Any:
    return (
        insert(IdempotencyRecord)
        .on_conflict_do_nothing(index_elements=["account_id", "store_id", "reference"])
        .returning(IdempotencyRecord.id)
    )


# Every till write runs this: built once (per dialect) and run on the session's
# connection, as bench/'s profiles asked.
_RECORD = {
    "postgresql": _record_statement(postgresql.insert),
    "sqlite": _record_statement(sqlite.insert),
}


def record(
    session: Session,
    account_id: int,
    store_id: str,
    site_id: int,
    reference: str,
    request_hash: str,
    status_code: int,
    response_body: str,
) -> bool:
    """Insert the answer; False (and nothing written) when this reference already has
    one. ``ON CONFLICT DO NOTHING`` waits for a concurrent twin's transaction to end,
    so a False means a committed record is there to read."""
    connection = session.connection()
    values = {
        "account_id": account_id,
        "store_id": store_id,
        "site_id": site_id,
        "reference": reference,
        "request_hash": request_hash,
        "status_code": status_code,
        "response_body": response_body,
        "created_at": utcnow(),
    }
    return connection.execute(_RECORD[connection.dialect.name], values).first() is not None


def get(session: Session, account_id: int, store_id: str, reference: str) -> IdempotencyRecord:
    return session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id,
            IdempotencyRecord.store_id == store_id,
            IdempotencyRecord.reference == reference,
        )
    ).scalar_one()


def request_hash(session: Session, account_id: int, store_id: str, reference: str) -> str | None:
    """The record's request hash (``service.VOIDED`` for a tombstone), None: no record."""
    return session.execute(
        select(IdempotencyRecord.request_hash).where(
            IdempotencyRecord.account_id == account_id,
            IdempotencyRecord.store_id == store_id,
            IdempotencyRecord.reference == reference,
        )
    ).scalar_one_or_none()
