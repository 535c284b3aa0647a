"""Admin API bodies for onboarding records: defined in the contract package, which the
onboarding flows share, and named here beside the routes that use them."""

from contract.onboardings import (
    E164,
    STATUSES,
    EndingOutcome,
    IssuedOnboardingCredential,
    OnboardingClaim,
    OnboardingCreate,
    OnboardingEnding,
    OnboardingEndingRecorded,
    OnboardingOut,
    PolarisContact,
    Stage,
    StageRecord,
)

__all__ = [
    "E164",
    "STATUSES",
    "EndingOutcome",
    "IssuedOnboardingCredential",
    "OnboardingClaim",
    "OnboardingCreate",
    "OnboardingEnding",
    "OnboardingEndingRecorded",
    "OnboardingOut",
    "PolarisContact",
    "Stage",
    "StageRecord",
]
