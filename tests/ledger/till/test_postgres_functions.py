"""PostgreSQL runs the till's writes as functions (migration 0005) where SQLite runs
the Python rules: the two must say the same things. The contract, model-based and
schemathesis tests compare their behaviour call by call; these compare the pieces the
functions hold copies of: each problem's title and status (api/core/errors.py) and the
Luhn check digit (api/vouchers/cards.py)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from api.core import errors
from api.vouchers import cards
from harness.constants import BACKENDS
from harness.databases import PostgresTemplates

pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="LEDGER_TEST_BACKENDS leaves PostgreSQL out"
)


def _problem_classes() -> dict[str, type[errors.LedgerError]]:
    found: dict[str, type[errors.LedgerError]] = {}
    pending: list[type[errors.LedgerError]] = [errors.LedgerError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "code" in cls.__dict__:
            found[cls.code] = cls
    return found


@pytest.fixture
def connection(postgres_templates: PostgresTemplates) -> Iterator[psycopg.Connection]:
    url = postgres_templates.fresh()
    try:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            yield connection
    finally:
        postgres_templates.drop(url)


def test_each_problem_the_functions_answer_is_the_python_ones(
    connection: psycopg.Connection,
) -> None:
    codes = connection.execute(
        "SELECT unnest(regexp_matches(prosrc, '\\(''([a-z_]+)'', ''[^'']+'', [0-9]{3}\\)', 'g'))"
        " FROM pg_proc WHERE proname = 'till_problem'"
    ).fetchall()
    named = sorted(code for (code,) in codes)
    assert len(named) == 15, named
    python = _problem_classes()
    for code in named:
        body = json.loads(
            connection.execute("SELECT till_problem(%s, 'why')", (code,)).fetchone()[0]
        )
        cls = python[code]
        # LedgerError.problem()'s members, from the class.
        expected = {
            "type": f"/problems/{code}",
            "title": cls.title,
            "status": cls.status,
            "detail": "why",
            "code": code,
        }
        assert body == expected, code
    # With a balance, as insufficient_funds carries it.
    body = json.loads(
        connection.execute("SELECT till_problem('insufficient_funds', 'short', 250)").fetchone()[0]
    )
    assert body == errors.InsufficientFunds("short", balance=250).problem()


def test_the_functions_check_digit_is_the_python_one(connection: psycopg.Connection) -> None:
    generator = random.Random(10)
    partials = ["".join(generator.choice("0123456789") for _ in range(18)) for _ in range(500)]
    rows = connection.execute(
        "SELECT p, till_luhn_digit(p) FROM unnest(%s::text[]) AS p", (partials,)
    ).fetchall()
    assert {p: d for p, d in rows} == {p: cards.luhn_check_digit(p) for p in partials}
