"""Queries for idempotency records (the SQLite path's: PostgreSQL's writes keep their
records in the functions of migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite

from api.core.statements import Statements
from api.core.types import utcnow
from api.idempotency.models import IdempotencyRecord


@dataclass(frozen=True)
class RecordView:
    """A reference's first answer: the request it answered (its fingerprint, or
    ``service.VOIDED`` for a tombstone), and the answer."""

    request_hash: str
    status_code: int
    response_body: str


_COLUMNS = ("account_id", "store_id", "site_id", "reference", "request_hash")
_RECORD = (
    sqlite.insert(IdempotencyRecord)
    .values(
        {
            column: bindparam(column)
            for column in (*_COLUMNS, "status_code", "response_body", "created_at")
        }
    )
    .on_conflict_do_nothing(index_elements=["account_id", "store_id", "reference"])
    .returning(IdempotencyRecord.id.label("id"))
)
_KEY = (
    IdempotencyRecord.account_id == bindparam("account_id"),
    IdempotencyRecord.store_id == bindparam("store_id"),
    IdempotencyRecord.reference == bindparam("reference"),
)
_GET = select(
    IdempotencyRecord.request_hash.label("request_hash"),
    IdempotencyRecord.status_code.label("status_code"),
    IdempotencyRecord.response_body.label("response_body"),
).where(*_KEY)


def record(
    db: Statements,
    account_id: int,
    store_id: str,
    site_id: int,
    reference: str,
    request_hash: str,
    status_code: int,
    response_body: str,
) -> bool:
    """Insert the answer; False (and nothing written) when this reference already has
    one. SQLite's write transaction holds the database's write lock, so a False means a
    committed record is there to read."""
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
    return bool(db.rows(_RECORD, values))


def get(db: Statements, account_id: int, store_id: str, reference: str) -> RecordView | None:
    row = db.first(_GET, {"account_id": account_id, "store_id": store_id, "reference": reference})
    return None if row is None else RecordView(**row)
