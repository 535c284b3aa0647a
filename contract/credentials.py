"""Admin API bodies for integration users."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contract.fields import NO_NUL

CredentialPurpose = Literal["polaris", "other"]


class IntegrationUserCreate(BaseModel):
    label: str = Field(
        default="", max_length=200, pattern=NO_NUL, description="Who holds it, e.g. 'Polaris'."
    )
    purpose: CredentialPurpose = Field(
        default="other",
        description="'polaris': the account's Polaris EPOS credential (at most one active); "
        "'other': any other integration.",
    )


class IntegrationUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    username: str
    label: str
    purpose: str
    replaces_id: int | None = Field(
        description="A rotation's new credential: the one it replaces until the rotation ends."
    )
    surplus_at: datetime | None = Field(
        description="Set on an extra active Polaris credential the account had before the "
        "one-credential rule; the account manager decides which to revoke."
    )
    created_at: datetime
    revoked_at: datetime | None
    is_active: bool


class IssuedIntegrationUser(IntegrationUserOut):
    password: str = Field(description="Shown in this response only; it is never stored.")


class CredentialStoreUseOut(BaseModel):
    """A store an integration user's till calls have come from, and when the first came.
    The site is the account's site with that store ID now (none if it has none since)."""

    store_id: str
    site_id: int | None
    site_name: str | None
    first_used_at: datetime
