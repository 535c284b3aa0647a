"""Admin API bodies for Polaris offboardings: taking a merchant off Polaris's tills."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.fields import NO_NUL

EmailRecipient = Literal["polaris", "merchant"]


class OffboardRequest(BaseModel):
    clear_store_ids: bool = Field(
        description="Also clear the sites' Polaris store IDs (false: the sites keep them)."
    )
    flow_run_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_NUL,
        description="The Prefect flow run doing the offboarding, noted on the record.",
    )


class ClearedStoreId(BaseModel):
    site_id: int
    site_name: str
    store_id: str


class RevokedCredential(BaseModel):
    id: int
    username: str
    label: str


class OffboardingOut(BaseModel):
    """One offboarding: what it revoked and cleared, and which confirmations went out."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    clear_store_ids: bool
    flow_run_id: str | None
    revoked_credentials: list[RevokedCredential]
    cleared_store_ids: list[ClearedStoreId]
    polaris_emailed_at: datetime | None
    polaris_message_id: str | None
    merchant_emailed_at: datetime | None
    merchant_message_id: str | None
    finished: bool = Field(description="Both confirmation emails have gone out.")
    created_at: datetime
    updated_at: datetime


class OffboardResult(BaseModel):
    """What one offboard call changed. A call that changes nothing, after an offboarding
    whose emails all went out, says so (``changed`` false, both lists empty)."""

    changed: bool
    credentials_revoked: list[RevokedCredential]
    store_ids_cleared: list[ClearedStoreId]
    offboarding: OffboardingOut | None = Field(
        description="The offboarding this call made or continued (an unfinished one is "
        "continued); else the account's latest, if any."
    )
    previous_flow_run_id: str | None = Field(
        default=None,
        description="The flow run a continued offboarding was noted with before this call "
        "(if that run is still live, it sends the emails).",
    )


class EmailSent(BaseModel):
    message_id: str | None = Field(default=None, max_length=255, pattern=NO_NUL)
