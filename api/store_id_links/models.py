"""Store-ID links: the signed link in the email to Polaris that opens the store-ID page
of one onboarding's waiting flow run.

A row keeps what revoking, expiring and rate-limiting a link needs, and never the link
itself: ``link_id`` is its random part, and the working link is that ID signed with the
ledger's key (api.store_id_links.tokens), which the database does not hold. Keeping the
ID (rather than a digest of it) lets a reminder carry the very link the first email did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow


class StoreIdLink(Base):
    __tablename__ = "store_id_links"
    # One link per flow run of an onboarding: a reminder, or the same run's email sent
    # again, carries the same link; a new run (a restart) gets a new one.
    __table_args__ = (UniqueConstraint("onboarding_id", "flow_run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboardings.id"), index=True)
    flow_run_id: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[str] = mapped_column(String(43), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    email_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # When store IDs were last sent through the page and the run took them.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When a later flow run of the same onboarding got a link of its own.
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The page's rate limit: requests in the current fixed window.
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    window_requests: Mapped[int] = mapped_column(default=0)
