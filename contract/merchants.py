"""Admin API bodies for accounts, sites, products and store IDs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contract.fields import NO_NUL, RowId

# What an account gets when it is created without them (the ledger's columns take their
# defaults from here).
DEFAULT_CARD_RANGE = "63011900"
DEFAULT_CURRENCY = "GBP"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=NO_NUL)]
StoreIdText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[ -~]+$")
]


class AccountCreate(BaseModel):
    name: Annotated[Text, StringConstraints(max_length=200)]
    card_range: str = Field(
        default=DEFAULT_CARD_RANGE, pattern=r"^[0-9]{8}$", description="8-digit card range."
    )
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$", description="ISO 4217.")
    balance_cap: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,  # the column is a 64-bit integer
        description="Highest balance a voucher may hold, in minor units.",
    )


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    card_range: str
    currency: str
    balance_cap: int | None
    created_at: datetime


class SiteCreate(BaseModel):
    name: Annotated[Text, StringConstraints(max_length=200)]
    address: Annotated[Text, StringConstraints(max_length=500)]
    reference: Annotated[Text, StringConstraints(max_length=100)] = Field(
        description="The merchant's own reference for the site; adding it again is a no-op."
    )


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    name: str
    address: str
    reference: str
    store_id: str | None = Field(description="The Polaris store ID, once known.")
    created_at: datetime


class ProductCreate(BaseModel):
    name: Annotated[Text, StringConstraints(max_length=200)]
    in_store: bool = Field(default=True, description="Only in-store products sell at a till.")
    validity_days: int | None = Field(
        default=None, ge=1, le=36600, description="Vouchers expire this many days after sale."
    )


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    name: str
    in_store: bool
    validity_days: int | None
    created_at: datetime


class StoreIdAssignment(BaseModel):
    site_id: RowId
    store_id: StoreIdText


class StoreIdsUpdate(BaseModel):
    assignments: list[StoreIdAssignment] = Field(
        min_length=1, description="One store ID per site; all are saved or none."
    )
