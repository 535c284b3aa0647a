"""idempotency records keyed on the store ID the till sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

A reference is unique per merchant account and store ID as the till sent it
(till-api.md); keying it on the site the store ID mapped to let a retry move money
again once store IDs were swapped between sites. Existing records take the store ID
their site has now (the best that is known of what was sent), or, for a site that has
none any more, a tab and the site's ID: a store ID no till can send (till store IDs
are printable ASCII, so a tab is refused), so no retry can match it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("store_id", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE idempotency_records SET store_id = COALESCE("
        "(SELECT sites.store_id FROM sites WHERE sites.id = idempotency_records.site_id), "
        "'\t' || CAST(idempotency_records.site_id AS VARCHAR(20)))"
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.alter_column("store_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(
            "uq_idempotency_records_account_id_site_id_reference", type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_idempotency_records_account_id_store_id_reference"),
            ["account_id", "store_id", "reference"],
        )


def downgrade() -> None:
    # Records a swap made ambiguous under the old key (the same reference at one site
    # under two store IDs) keep only the first.
    op.execute(
        "DELETE FROM idempotency_records WHERE id NOT IN ("
        "SELECT MIN(id) FROM idempotency_records GROUP BY account_id, site_id, reference)"
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_idempotency_records_account_id_store_id_reference"), type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_idempotency_records_account_id_site_id_reference",
            ["account_id", "site_id", "reference"],
        )
        batch_op.drop_column("store_id")
