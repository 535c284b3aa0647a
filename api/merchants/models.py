"""Merchant accounts, their sites (with Polaris store IDs) and in-store gift products."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.core.db import Base
from api.core.types import UTCDateTime, utcnow
from contract.merchants import DEFAULT_CARD_RANGE, DEFAULT_CURRENCY


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance_cap IS NULL OR balance_cap > 0", name="balance_cap_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    card_range: Mapped[str] = mapped_column(String(8), default=DEFAULT_CARD_RANGE)
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY)
    balance_cap: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sites: Mapped[list[Site]] = relationship(back_populates="account", lazy="raise")
    products: Mapped[list[Product]] = relationship(back_populates="account", lazy="raise")


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("account_id", "reference"),
        # Tills name their store; within one account a store ID maps to one site.
        UniqueConstraint("account_id", "store_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(100))
    store_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship(back_populates="sites", lazy="raise")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Only in-store gift products can be sold at a till.
    in_store: Mapped[bool] = mapped_column(Boolean, default=True)
    validity_days: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship(back_populates="products", lazy="raise")
