"""credential store uses: each credential's first till call per store (issue 12)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_store_uses",
        sa.Column("integration_user_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", api.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_user_id"],
            ["integration_users.id"],
            name=op.f("fk_credential_store_uses_integration_user_id_integration_users"),
        ),
        sa.PrimaryKeyConstraint(
            "integration_user_id", "store_id", name=op.f("pk_credential_store_uses")
        ),
    )


def downgrade() -> None:
    op.drop_table("credential_store_uses")
