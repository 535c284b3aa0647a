"""offboardings: the record of taking a merchant off Polaris (issue 12, part 3)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offboardings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("clear_store_ids", sa.Boolean(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("revoked_credentials", sa.JSON(), nullable=False),
        sa.Column("cleared_store_ids", sa.JSON(), nullable=False),
        sa.Column("polaris_emailed_at", api.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("polaris_message_id", sa.String(length=255), nullable=True),
        sa.Column("merchant_emailed_at", api.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merchant_message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", api.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_offboardings_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offboardings")),
    )
    with op.batch_alter_table("offboardings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offboardings_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("offboardings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offboardings_account_id"))
    op.drop_table("offboardings")
