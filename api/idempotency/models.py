"""The first answer to each till reference, kept so that a retry gets it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    # Keyed on the store ID the till sent, as the contract keys references: which site
    # that store maps to may change (store IDs swapped between sites), a replay may not.
    __table_args__ = (UniqueConstraint("account_id", "store_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    store_id: Mapped[str] = mapped_column(String(64))
    # The site the store mapped to when the reference was first answered.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    reference: Mapped[str] = mapped_column(String(64))
    # sha256 of the canonical request (operation, voucher, body with defaults applied).
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column()
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
