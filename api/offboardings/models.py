"""Offboardings: the durable record of taking a merchant off Polaris's tills.

The offboarding flow reads and writes this over the admin API, so that a retried,
crashed or second run neither revokes twice nor sends a confirmation twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow


class Offboarding(Base):
    __tablename__ = "offboardings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    clear_store_ids: Mapped[bool] = mapped_column(Boolean, default=False)
    flow_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What it did, for the confirmations: [{"id", "username", "label"}] and
    # [{"site_id", "site_name", "store_id"}] (usernames and store IDs are no secrets).
    revoked_credentials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cleared_store_ids: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    polaris_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    polaris_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    merchant_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    merchant_message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def finished(self) -> bool:
        return self.polaris_emailed_at is not None and self.merchant_emailed_at is not None
