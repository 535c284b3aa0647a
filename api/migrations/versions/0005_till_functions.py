"""the till's writes as PostgreSQL functions

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-20 09:00:00

On PostgreSQL each till write (sell, redeem, top up, reverse, void) becomes one call of
a function installed here, so that it is one round trip from the ledger process: the
checks, the row lock, the conditional update, the ledger entry and the idempotency
record run inside the server (issue: the till path as fast as this stack allows). The
functions' text is in 0005_till_functions.sql beside this file (frozen with this
revision: a later change to them is a new revision). SQLite has no such functions: its
till path runs the same rules in Python (api/vouchers/service.py and neighbours).
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# The databases this revision changes (tests/ledger/migrations checks the others see
# no change).
dialects = ("postgresql",)

_SQL = Path(__file__).with_suffix(".sql")
FUNCTIONS = (
    "till_void",
    "till_reverse",
    "till_reverse_entry",
    "till_sell",
    "till_luhn_digit",
    "till_move",
    "till_voided_problem",
    "till_is_voided",
    "till_record",
    "till_replay",
    "till_voucher_not_found",
    "till_count_failure",
    "till_gate",
    "till_rfc3339",
    "till_problem",
)


def upgrade() -> None:
    if op.get_bind().dialect.name in dialects:
        # Straight to the driver, with no parameters: the text is PL/pgSQL (its '%s' are
        # format()'s), not a template for bind parameters.
        with op.get_bind().connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(_SQL.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name in dialects:
        # Each by its name and arguments, as PostgreSQL lists them.
        signatures = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE n.nspname = current_schema() AND p.proname = ANY(:names)"
                ),
                {"names": list(FUNCTIONS)},
            )
            .scalars()
        )
        for signature in list(signatures):
            op.execute(f"DROP FUNCTION {signature}")
