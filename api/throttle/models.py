"""Failed voucher look-ups, counted per credential to throttle code guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow


class LookupFailure(Base):
    __tablename__ = "lookup_failures"
    __table_args__ = (Index("ix_lookup_failures_user_time", "integration_user_id", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_user_id: Mapped[int] = mapped_column(ForeignKey("integration_users.id"))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
