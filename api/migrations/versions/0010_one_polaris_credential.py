"""one Polaris credential per account; rotations; onboardings of new sites (issues 12, 14)

Accounts that already have several active Polaris credentials keep the newest one a
till has used (else the newest); the others are flagged surplus, not revoked: the
account manager sees them in `onboarding status --account ID` and decides.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.core.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "purpose = 'polaris' AND revoked_at IS NULL AND surplus_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("integration_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("surplus_at", api.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_integration_users_replaces_id_integration_users"),
            "integration_users",
            ["replaces_id"],
            ["id"],
        )
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="onboarding", nullable=False)
        )
        batch_op.add_column(sa.Column("replaces_api_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "uses_existing_credential", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_onboardings_replaces_api_user_id_integration_users"),
            "integration_users",
            ["replaces_api_user_id"],
            ["id"],
        )
    _flag_surplus_credentials()
    for name, condition in (
        ("uq_integration_users_one_polaris", f"{_ACTIVE} AND replaces_id IS NULL"),
        ("uq_integration_users_one_polaris_replacement", f"{_ACTIVE} AND replaces_id IS NOT NULL"),
    ):
        op.create_index(
            name,
            "integration_users",
            ["account_id"],
            unique=True,
            sqlite_where=sa.text(condition),
            postgresql_where=sa.text(condition),
        )


def _flag_surplus_credentials() -> None:
    connection = op.get_bind()
    used = _used_credentials(connection)
    rows = connection.execute(
        sa.text(
            "SELECT id, account_id FROM integration_users "
            "WHERE purpose = 'polaris' AND revoked_at IS NULL ORDER BY account_id, id"
        )
    ).all()
    by_account: dict[int, list[int]] = {}
    for user_id, account_id in rows:
        by_account.setdefault(account_id, []).append(user_id)
    surplus = []
    for ids in by_account.values():
        if len(ids) > 1:
            keep = max((i for i in ids if i in used), default=max(ids))
            surplus += [i for i in ids if i != keep]
    if surplus:
        connection.execute(
            sa.text("UPDATE integration_users SET surplus_at = :now WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"now": api.core.types.utcnow(), "ids": surplus},
        )


def _used_credentials(connection: sa.Connection) -> set[int]:
    # The first use per store, noted by the till path since migration 0008.
    if not sa.inspect(connection).has_table("credential_store_uses"):
        return set()
    return set(
        connection.execute(
            sa.text("SELECT DISTINCT integration_user_id FROM credential_store_uses")
        )
        .scalars()
        .all()
    )


def downgrade() -> None:
    op.drop_index("uq_integration_users_one_polaris_replacement", table_name="integration_users")
    op.drop_index("uq_integration_users_one_polaris", table_name="integration_users")
    with op.batch_alter_table("onboardings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_onboardings_replaces_api_user_id_integration_users"), type_="foreignkey"
        )
        batch_op.drop_column("uses_existing_credential")
        batch_op.drop_column("replaces_api_user_id")
        batch_op.drop_column("kind")
    with op.batch_alter_table("integration_users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_integration_users_replaces_id_integration_users"), type_="foreignkey"
        )
        batch_op.drop_column("surplus_at")
        batch_op.drop_column("replaces_id")
