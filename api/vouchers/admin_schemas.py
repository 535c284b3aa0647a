"""Admin API bodies for reading a voucher's ledger and reconciling balances."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.vouchers.schemas import VoucherStatus


class EntryOut(BaseModel):
    transaction_id: str
    kind: str = Field(description="sale, load, redemption or reversal.")
    amount: int = Field(description="Signed minor units.")
    site_id: int
    store_id: str | None = Field(description="The store ID the till named.")
    reference: str
    reverses_transaction_id: str | None
    created_at: datetime


class VoucherLedgerOut(BaseModel):
    code: str
    account_id: int
    product_id: int
    balance: int
    currency: str
    status: VoucherStatus
    expires_at: datetime | None
    entries_total: int = Field(description="Sum of the entries' amounts; equals balance.")
    entries: list[EntryOut]


class Mismatch(BaseModel):
    voucher_id: int
    code: str
    balance: int
    entries_total: int


class ReconciliationOut(BaseModel):
    vouchers_checked: int
    balanced: bool = Field(description="True when every balance equals its entries' sum.")
    mismatches: list[Mismatch]
