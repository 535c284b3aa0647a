"""Schemas shared by every surface: the problem-details body and field types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt

# The admin API's bodies use these too, so they are defined (and explained) in the
# contract; they are named here as well for the till API's bodies and the routes.
from contract.fields import MAX_ROW_ID as MAX_ROW_ID
from contract.fields import NO_NUL as NO_NUL
from contract.fields import RowId as RowId

RowIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

Amount = Annotated[
    StrictInt,
    Field(
        ge=1, le=100_000_000, description="Minor units (pence): an integer from 1 to 100,000,000."
    ),
]
TillReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[ -~]{1,64}$",
        description="The till's own transaction reference: 1 to 64 printable characters, "
        "unique per merchant account and store. A retry with the same reference and body "
        "gets the first answer back.",
    ),
]
StoreId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        # As the admin API saves them; also keeps NUL bytes away from PostgreSQL (a 500).
        pattern=r"^[ -~]{1,64}$",
        description="The till's Polaris store ID: 1 to 64 printable characters.",
    ),
]


class Problem(BaseModel):
    """RFC 9457 problem details, served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI reference naming the problem type.")
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="The stable, machine-readable error code.")
    balance: int | None = Field(
        default=None, description="With insufficient_funds: the voucher's balance."
    )
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="With invalid_request: where the request is malformed."
    )


REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier identical request.",
        "schema": {"type": "string"},
    }
}


def write_responses(model: type, *errors: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a till write: its 201 (maybe replayed) and its errors."""
    statuses = errors or (401, 403, 404, 409, 413, 422, 429, 503)
    return {201: {"model": model, "headers": REPLAY_HEADER}, **problem_responses(*statuses)}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    401: "Missing, wrong or revoked credential (unauthorized).",
    403: "The store ID is not one of this account's (unknown_store).",
    404: "Not found (voucher_not_found, product_not_found, transaction_not_found, ...).",
    413: "The body is over 64 KB (request_too_large).",
    409: "Refused (insufficient_funds, voucher_expired, voucher_cancelled, "
    "balance_limit_exceeded, voucher_in_use, already_reversed, not_reversible, "
    "idempotency_conflict, transaction_voided, ...).",
    422: "Malformed request (invalid_request).",
    429: "Too many failed look-ups on this credential (too_many_attempts).",
    503: "The database could not be reached for a moment; nothing changed, retry with "
    "the same reference (unavailable, with Retry-After).",
}
