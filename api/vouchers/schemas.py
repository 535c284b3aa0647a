"""Till API request and response bodies (the contract in shared/till-api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from api.core.schemas import MAX_ROW_ID, Amount, StoreId, TillReference

VoucherStatus = Literal["active", "spent", "expired", "cancelled"]


class SellRequest(BaseModel):
    store_id: StoreId
    product_id: StrictInt = Field(
        ge=1, le=MAX_ROW_ID, description="An in-store gift product of this account."
    )
    amount: Amount
    reference: TillReference


class RedeemRequest(BaseModel):
    store_id: StoreId
    amount: Amount
    reference: TillReference
    allow_partial: StrictBool = Field(
        default=False,
        description="Take what the voucher holds when it holds less than the amount.",
    )


class LoadRequest(BaseModel):
    store_id: StoreId
    amount: Amount
    reference: TillReference


class ReverseRequest(BaseModel):
    store_id: StoreId
    transaction_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[ -~]{1,64}$",
        description="The sale, top-up or redemption to undo.",
    )
    reference: TillReference


class VoucherOut(BaseModel):
    code: str = Field(description="The 19-digit card number.")
    balance: int = Field(description="Minor units.")
    currency: str = Field(description="ISO 4217 code, e.g. GBP.")
    status: VoucherStatus
    expires_at: datetime | None = Field(description="RFC 3339 UTC, or null when it never expires.")


class SaleOut(VoucherOut):
    transaction_id: str


class MovementOut(BaseModel):
    transaction_id: str
    amount: int = Field(description="Minor units moved by this transaction.")
    balance: int = Field(description="Minor units remaining on the voucher.")
    currency: str


class ReversalOut(MovementOut):
    reversed_transaction_id: str


EntryKindName = Literal["sale", "redemption", "load", "reversal"]


class StatementEntry(BaseModel):
    transaction_id: str
    kind: EntryKindName
    amount: int = Field(description="Signed minor units: a redemption is negative.")
    balance_after: int = Field(description="Minor units on the voucher after this transaction.")
    store_id: str | None = Field(
        description="The store ID the till named (null only for transactions recorded "
        "before the ledger kept it, when it could not be worked out)."
    )
    reference: str = Field(description="The till's own reference sent with it.")
    created_at: datetime = Field(description="RFC 3339 UTC.")
    reversed_by: str | None = Field(
        description="The transaction_id of the reversal that undid it, or null."
    )


class StatementOut(BaseModel):
    code: str = Field(description="The 19-digit card number.")
    balance: int = Field(description="Minor units.")
    currency: str = Field(description="ISO 4217 code, e.g. GBP.")
    transactions: list[StatementEntry] = Field(
        description="Newest first, at most 100 (older ones with `before`)."
    )
