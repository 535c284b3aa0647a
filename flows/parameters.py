"""The onboarding's parameters, validated by Prefect before the flow body runs.

Defaults live in the flow's signature, not here: Prefect builds its parameter
model from the signature and refuses a field with two defaults.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from contract.merchants import SiteCreate
from contract.onboardings import PolarisContact

AccountId = Annotated[int, Field(ge=1, description="The merchant account's ID in the ledger.")]
ProductId = Annotated[
    int | None, Field(ge=1, description="In-store gift product (default: the account's).")
]
SitesToAdd = Annotated[
    list[SiteCreate],
    Field(description="Sites to add before onboarding (idempotent by reference)."),
]

__all__ = ["AccountId", "PolarisContact", "ProductId", "SiteCreate", "SitesToAdd"]
