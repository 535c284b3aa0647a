"""Queries for idempotency records."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.core.types import utcnow
from api.idempotency.models import IdempotencyRecord


def claim(
    session: Session, account_id: int, site_id: int, reference: str, request_hash: str
) -> int | None:
    """Insert the record, or return None when this reference already has one.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent twin's transaction to finish,
    so the caller then reads a committed record.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(IdempotencyRecord)
        .values(
            account_id=account_id,
            site_id=site_id,
            reference=reference,
            request_hash=request_hash,
            status_code=0,
            response_body="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["account_id", "site_id", "reference"])
        .returning(IdempotencyRecord.id)
    )
    return session.execute(statement).scalar_one_or_none()


def get(session: Session, account_id: int, site_id: int, reference: str) -> IdempotencyRecord:
    return session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id,
            IdempotencyRecord.site_id == site_id,
            IdempotencyRecord.reference == reference,
        )
    ).scalar_one()


def complete(session: Session, record_id: int, status_code: int, response_body: str) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status_code, response_body=response_body)
    )
