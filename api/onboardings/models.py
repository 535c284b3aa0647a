"""Onboardings: the durable record of each Polaris onboarding's stages.

The onboarding flow reads and writes this over the admin API, so that a resumed,
retried, crashed or restarted flow run knows what has already happened and neither
repeats a side effect nor skips one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow


class Onboarding(Base):
    __tablename__ = "onboardings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # "onboarding" (sites, credential, store IDs, verification) or "rotation" (a new
    # credential delivered the same way, replacing ``replaces_api_user_id``).
    kind: Mapped[str] = mapped_column(String(16), default="onboarding", server_default="onboarding")
    replaces_api_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration_users.id"), default=None
    )
    # An onboarding of new sites for an account that is already live: its existing
    # Polaris credential covers them, so no file and no text are sent.
    uses_existing_credential: Mapped[bool] = mapped_column(default=False, server_default=false())
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), default=None)
    polaris_name: Mapped[str] = mapped_column(String(200))
    polaris_email: Mapped[str] = mapped_column(String(320))
    polaris_mobile: Mapped[str] = mapped_column(String(20))
    # The sites whose store IDs this onboarding asks Polaris for.
    site_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The Prefect flow run currently driving this onboarding (compare-and-set claim).
    flow_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    api_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("integration_users.id"), default=None
    )
    sites_added_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    email_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    text_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    store_ids_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # How the run in ``ended_flow_run_id`` ended (failed, crashed, cancelled, expired),
    # when (failed_at) and why (failure_reason). A new claim clears all four: the
    # onboarding is going again, from where it stopped.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    ended_as: Mapped[str | None] = mapped_column(String(16), default=None)
    ended_flow_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def credentials_delivered(self) -> bool:
        if self.uses_existing_credential:  # delivered long ago; the email names the sites
            return self.email_sent_at is not None
        return self.email_sent_at is not None and self.text_sent_at is not None

    @property
    def status(self) -> str:
        rotation = self.kind == "rotation"
        if self.verified_at is not None:
            return "rotated" if rotation else "verified"
        if self.failed_at is not None:
            return self.ended_as or "failed"  # failed, crashed, cancelled or expired
        if self.store_ids_saved_at is not None:
            return "verifying"
        if self.credentials_delivered:
            return "awaiting_first_use" if rotation else "awaiting_store_ids"
        return "in_progress"

    @property
    def waiting_since(self) -> datetime | None:
        if not self.credentials_delivered or self.store_ids_saved_at is not None:
            return None
        assert self.email_sent_at is not None
        return max(self.email_sent_at, self.text_sent_at or self.email_sent_at)
