"""Integration users: the API credentials a till integration (Polaris) signs in with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow

# At most one active Polaris credential per account, and beside it at most one that
# replaces it while a rotation's grace period runs (api/credentials/polaris.py).
# Credentials flagged surplus (several active before this rule; migration 0010) are
# left to the account manager and sit outside the rule.
_POLARIS_ACTIVE = "purpose = 'polaris' AND revoked_at IS NULL AND surplus_at IS NULL"
_PRIMARY = text(f"{_POLARIS_ACTIVE} AND replaces_id IS NULL")
_REPLACEMENT = text(f"{_POLARIS_ACTIVE} AND replaces_id IS NOT NULL")


class IntegrationUser(Base):
    __tablename__ = "integration_users"
    __table_args__ = (
        Index(
            "uq_integration_users_one_polaris",
            "account_id",
            unique=True,
            sqlite_where=_PRIMARY,
            postgresql_where=_PRIMARY,
        ),
        Index(
            "uq_integration_users_one_polaris_replacement",
            "account_id",
            unique=True,
            sqlite_where=_REPLACEMENT,
            postgresql_where=_REPLACEMENT,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # "sha256$<hex>" of the password (credentials.passwords; older rows: an argon2id
    # hash until first used). The password is shown once at creation, never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(200), default="")
    # What the credential is for: "polaris" (issued by an onboarding or a rotation; at
    # most one active per account, see credentials.service) or "other".
    purpose: Mapped[str] = mapped_column(String(16), default="other", server_default="other")
    # A rotation's new credential: the one it replaces, which stays active until the
    # tills use this one or the grace period ends; cleared when the rotation completes.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration_users.id"), default=None
    )
    # Set on the extra active Polaris credentials an account had before the rule.
    surplus_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CredentialStoreUse(Base):
    """A credential's first use at a store: the first till call it made naming that
    store ID that the ledger took as coming from a store of the credential's account
    (noted by the till path, api.till.store_uses; read by a credential rotation to see
    when the tills have moved to a new credential)."""

    __tablename__ = "credential_store_uses"

    integration_user_id: Mapped[int] = mapped_column(
        ForeignKey("integration_users.id"), primary_key=True
    )
    # As the till sent it (the site behind it is looked up when read: it may change).
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
