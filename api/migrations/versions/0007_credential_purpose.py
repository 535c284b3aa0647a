"""credential purpose: which integration users are Polaris's (issues 12 and 14)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 14:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integration_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=16), server_default="other", nullable=False)
        )
    # The credentials onboardings issued are Polaris's (their label says so too).
    op.execute(
        "UPDATE integration_users SET purpose = 'polaris' "
        "WHERE id IN (SELECT api_user_id FROM onboardings WHERE api_user_id IS NOT NULL) "
        "OR label LIKE 'Polaris (onboarding %'"
    )


def downgrade() -> None:
    with op.batch_alter_table("integration_users", schema=None) as batch_op:
        batch_op.drop_column("purpose")
