"""The onboarding's parameters, validated by Prefect before the flow body runs.

Defaults live in the flow's signature, not here: Prefect builds its parameter
model from the signature and refuses a field with two defaults.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from contract.fields import NO_NUL
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

# Offboarding. Accounts hold no email address: the merchant's is given; the Polaris
# contact is the latest onboarding's unless given.
MerchantEmail = Annotated[
    EmailStr, Field(description="Where the merchant's confirmation of the offboarding goes.")
]
ClearStoreIds = Annotated[
    bool, Field(description="Clear the sites' Polaris store IDs (false: the sites keep them).")
]
PolarisEmail = Annotated[
    EmailStr | None,
    Field(description="Polaris's contact for the confirmation (default: the latest onboarding's)."),
]
_Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)
]
PolarisName = Annotated[
    _Name | None,
    Field(description="The Polaris contact's name (default: the latest onboarding's)."),
]

__all__ = [
    "AccountId",
    "ClearStoreIds",
    "MerchantEmail",
    "PolarisContact",
    "PolarisEmail",
    "PolarisName",
    "ProductId",
    "SiteCreate",
    "SitesToAdd",
]
