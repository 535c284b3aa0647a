"""onboarding endings: how an onboarding's run ended (failed, crashed, cancelled,
expired) and which flow run that was (issue 12)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_as", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("ended_flow_run_id", sa.String(length=64), nullable=True))
    # Every ending recorded so far was a failure of the run driving the onboarding then.
    op.execute(
        "UPDATE onboardings SET ended_as = 'failed', ended_flow_run_id = flow_run_id "
        "WHERE failed_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_column("ended_flow_run_id")
        batch_op.drop_column("ended_as")
