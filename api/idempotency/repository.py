"""Queries for idempotency records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.core.types import utcnow
from api.idempotency.models import IdempotencyRecord


def _claim_statement(insert: Any) -> Any:
    return (
        insert(IdempotencyRecord)
        .on_conflict_do_nothing(index_elements=["account_id", "site_id", "reference"])
        .returning(IdempotencyRecord.id)
    )


# Every till write runs these: built once (per dialect) and run on the session's
# connection, as bench/'s profiles asked.
_CLAIM = {
    "postgresql": _claim_statement(postgresql.insert),
    "sqlite": _claim_statement(sqlite.insert),
}
_COMPLETE = (
    update(IdempotencyRecord)
    .where(IdempotencyRecord.id == bindparam("record_id"))
    .values(status_code=bindparam("new_status"), response_body=bindparam("new_body"))
)


def claim(
    session: Session, account_id: int, site_id: int, reference: str, request_hash: str
) -> int | None:
    """Insert the record, or return None when this reference already has one.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent twin's transaction to finish,
    so the caller then reads a committed record.
    """
    connection = session.connection()
    values = {
        "account_id": account_id,
        "site_id": site_id,
        "reference": reference,
        "request_hash": request_hash,
        "status_code": 0,
        "response_body": "",
        "created_at": utcnow(),
    }
    result = connection.execute(_CLAIM[connection.dialect.name], values)
    return result.scalar_one_or_none()


def get(session: Session, account_id: int, site_id: int, reference: str) -> IdempotencyRecord:
    return session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id,
            IdempotencyRecord.site_id == site_id,
            IdempotencyRecord.reference == reference,
        )
    ).scalar_one()


def complete(session: Session, record_id: int, status_code: int, response_body: str) -> None:
    session.connection().execute(
        _COMPLETE,
        {"record_id": record_id, "new_status": status_code, "new_body": response_body},
    )
