"""What a till developer checks on every answer, written once for the contract tests.

The assertions here are written against shared/till-api.md, not against the ledger's
code: e.g. the Luhn check below is an independent implementation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, update

from api.core.config import Settings
from api.vouchers.models import Voucher
from harness.factories import Merchant

PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DEFAULT_CARD_RANGE = "63011900"
VOUCHER_FIELDS = {"code", "balance", "currency", "status", "expires_at"}
MOVEMENT_FIELDS = {"transaction_id", "amount", "balance", "currency"}


def _money_is_integers(body: dict[str, Any]) -> None:
    """No floats anywhere: money is an integer count of minor units."""
    for key in ("balance", "amount"):
        if key in body:
            assert type(body[key]) is int, f"{key} is {body[key]!r}"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM_JSON
    body = response.json()
    assert body.keys() >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    _money_is_integers(body)
    return dict(body)


def created(response: httpx.Response) -> dict[str, Any]:
    """Assert a first-time 201 JSON answer (not a replay); return its body."""
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    assert "Idempotent-Replayed" not in response.headers
    body = dict(response.json())
    _money_is_integers(body)
    return body


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    body = dict(response.json())
    _money_is_integers(body)
    return body


def assert_ledger(
    merchant: Merchant, code: str, *, balance: int, kinds: list[str]
) -> list[dict[str, Any]]:
    """Assert the admin ledger: the balance, its entries' kinds in order, and that the
    entries add up to the balance. Returns the entries."""
    book = merchant.ledger_of(code)
    assert book["balance"] == balance, book
    assert book["entries_total"] == balance, book
    assert sum(e["amount"] for e in book["entries"]) == balance
    assert [e["kind"] for e in book["entries"]] == kinds, book
    return list(book["entries"])


def balance_of(merchant: Merchant, code: str) -> int:
    return int(ok(merchant.balance(code))["balance"])


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def with_check_digit(partial: str) -> str:
    return next(partial + d for d in "0123456789" if luhn_valid(partial + d))


def unknown_code(card_range: str = DEFAULT_CARD_RANGE, middle: str = "0000000000") -> str:
    """A well-formed code (right length, range and check digit) nobody was sold."""
    return with_check_digit(card_range + middle)


def bad_check_digit(code: str) -> str:
    wrong = str((int(code[-1]) + 1) % 10)
    assert not luhn_valid(code[:-1] + wrong)
    return code[:-1] + wrong


def spaced(code: str) -> str:
    """How a till may print a card number: groups of four."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def dashed(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def add_product(merchant: Merchant, **fields: Any) -> int:
    body = {"name": "Extra product", **fields}
    response = merchant.admin.post(f"/admin/accounts/{merchant.account_id}/products", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def expire(settings: Settings, code: str) -> None:
    """Move a voucher's expiry into the past, straight in the database (a precondition)."""
    past = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(
                update(Voucher).where(Voucher.code == code).values(expires_at=past)
            )
            assert result.rowcount == 1
    finally:
        engine.dispose()


def parse_time(value: str) -> datetime:
    assert RFC3339_UTC.match(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
