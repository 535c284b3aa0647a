"""ledger entries keep the store ID the till named

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-11 09:00:00

A voucher's statement (till-api.md, "Statement") shows each movement's store ID as the
till named it; an entry only knew its site, and a site's store ID may change. Existing
entries take the store ID of the idempotency record written with them (same account,
site and reference, answered 201: the record every till write leaves), or none when no
such record holds a store ID a till could have sent (revision 0003 gave records of a
site without a store ID a tab and the site's ID).

Ledger entries are append-only (revision 0001's triggers), so the triggers are set
aside for the one backfill and put back as they were.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = (
    "UPDATE ledger_entries SET store_id = ("
    "SELECT MIN(r.store_id) FROM idempotency_records r"
    " WHERE r.account_id = ledger_entries.account_id"
    " AND r.site_id = ledger_entries.site_id"
    " AND r.reference = ledger_entries.reference"
    " AND r.status_code = 201"
    " AND r.store_id NOT LIKE '\t%')"
)


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("store_id", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")
        op.execute(_BACKFILL)
        op.execute("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only")
    else:
        op.execute("DROP TRIGGER ledger_entries_no_update")
        op.execute(_BACKFILL)
        op.execute(
            "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries "
            "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"
        )


def downgrade() -> None:
    # A plain DROP COLUMN on both (SQLite 3.35+): alembic's batch mode would rebuild
    # the table on SQLite, and the append-only triggers with it would be lost.
    op.drop_column("ledger_entries", "store_id")
