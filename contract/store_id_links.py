"""Admin API bodies for store-ID links: the signed link in the email to Polaris that
opens the ledger's store-ID page for one onboarding's waiting flow run.

The link's URL is handed out only where it is put into an email (``IssuedStoreIdLink``);
listings say what became of each link, never the link itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.fields import NO_NUL

# A link lives as long as the wait it serves (ONBOARDING_STORE_IDS_TIMEOUT_DAYS), and
# never more than a year.
MAX_VALID_FOR_SECONDS = 366 * 86400

FlowRunId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=NO_NUL, description="A Prefect flow run ID.")
]

LinkState = Literal["active", "used", "expired", "replaced", "closed"]


class StoreIdLinkCreate(BaseModel):
    flow_run_id: FlowRunId
    valid_for_seconds: int = Field(
        ge=1,
        le=MAX_VALID_FOR_SECONDS,
        description="How long the link works (the flow's store-ID wait); fixed when it is made.",
    )


class StoreIdLinkEmailed(BaseModel):
    flow_run_id: FlowRunId
    message_id: str | None = Field(default=None, max_length=255, pattern=NO_NUL)


class StoreIdLinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    onboarding_id: int
    flow_run_id: str
    state: LinkState = Field(
        description="active: it opens the form; used: store IDs were sent through it; "
        "expired; replaced: a later run of the onboarding has a link of its own; "
        "closed: the onboarding no longer waits for store IDs."
    )
    created_at: datetime
    expires_at: datetime
    emailed_at: datetime | None
    used_at: datetime | None = Field(description="When store IDs were last sent through it.")
    replaced_at: datetime | None


class IssuedStoreIdLink(StoreIdLinkOut):
    url: str = Field(
        description="The link itself, for the email to Polaris. It is a capability: put it in "
        "that email only, never in a log."
    )
