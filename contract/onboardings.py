"""Admin API bodies for onboarding records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from contract.fields import NO_NUL, RowId

E164 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9]{6,14}$"),
    Field(description="Mobile number in E.164, e.g. +447700900123."),
]
Stage = Literal[
    "sites_added", "email_sent", "text_sent", "store_ids_saved", "verified", "failed", "reminded"
]
# How a flow run of an onboarding ended badly; each is also the onboarding's status
# until it is started again: failed (an error in the run), crashed (its process died),
# cancelled (from the UI or the API), expired (the store-ID wait timed out).
Ending = Literal["failed", "crashed", "cancelled", "expired"]
ENDINGS: tuple[str, ...] = ("failed", "crashed", "cancelled", "expired")
STATUSES: tuple[str, ...] = (
    "in_progress",
    "awaiting_store_ids",
    "verifying",
    "verified",
    *ENDINGS,
    # A rotation's (kind "rotation"): delivered and waiting for the tills, then done.
    "awaiting_first_use",
    "rotated",
)
# The outcome of recording an ending: only "recorded" is new (and so worth an email).
EndingOutcome = Literal["recorded", "already_recorded", "not_current_run", "already_verified"]


class PolarisContact(BaseModel):
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL),
    ]
    email: EmailStr
    mobile: E164


class OnboardingCreate(BaseModel):
    account_id: RowId
    kind: Literal["onboarding", "rotation"] = Field(
        default="onboarding",
        description="'rotation': deliver a new credential replacing the account's live one.",
    )
    polaris: PolarisContact
    product_id: RowId | None = Field(
        default=None, description="Default: the account's first in-store product."
    )


class OnboardingClaim(BaseModel):
    flow_run_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    expected_flow_run_id: str | None = Field(
        pattern=NO_NUL,
        description="The claimant the caller saw; the claim fails if another took over since.",
    )


class StageRecord(BaseModel):
    api_user_id: RowId | None = Field(
        default=None, description="For email_sent/text_sent: the user whose file was delivered."
    )
    site_ids: list[RowId] | None = Field(
        default=None, description="For sites_added: the sites in scope."
    )
    message_id: str | None = Field(default=None, max_length=255, pattern=NO_NUL)
    reason: str | None = Field(
        default=None, max_length=4000, pattern=NO_NUL, description="For failed."
    )


class OnboardingEnding(BaseModel):
    flow_run_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        description="The flow run that ended; recorded only if it still drives the onboarding.",
    )
    ended_as: Ending
    reason: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


class OnboardingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    # Defaults: what a ledger from before rotations and live-account onboardings meant.
    kind: str = "onboarding"
    replaces_api_user_id: int | None = None
    uses_existing_credential: bool = False
    product_id: int | None
    polaris_name: str
    polaris_email: str
    polaris_mobile: str
    site_ids: list[int]
    flow_run_id: str | None
    api_user_id: int | None
    status: str
    credentials_delivered: bool
    sites_added_at: datetime | None
    email_sent_at: datetime | None
    email_message_id: str | None
    text_sent_at: datetime | None
    store_ids_saved_at: datetime | None
    verified_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    ended_as: str | None = Field(
        default=None, description="How the last run ended badly, if it did; cleared by a new run."
    )
    ended_flow_run_id: str | None = None
    last_reminder_at: datetime | None
    waiting_since: datetime | None
    created_at: datetime
    updated_at: datetime


class OnboardingEndingRecorded(BaseModel):
    outcome: EndingOutcome = Field(
        description=(
            "recorded: new (tell people); already_recorded: this run's ending was recorded "
            "before (the first is kept); not_current_run: another run drives the onboarding "
            "now, or none ever did; already_verified: the onboarding is done."
        )
    )
    onboarding: OnboardingOut

    @property
    def recorded(self) -> bool:
        return self.outcome == "recorded"


class IssuedOnboardingCredential(BaseModel):
    api_user_id: int
    username: str
    password: str = Field(description="Shown in this response only; it is never stored.")
    revoked_api_user_id: int | None = Field(description="The undelivered user this one replaces.")
