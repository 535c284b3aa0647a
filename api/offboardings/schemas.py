"""Admin API bodies for offboardings: defined in the contract package, which the
offboarding flow shares, and named here beside the routes that use them."""

from contract.offboardings import (
    ClearedStoreId,
    EmailRecipient,
    EmailSent,
    OffboardingOut,
    OffboardRequest,
    OffboardResult,
    RevokedCredential,
)

__all__ = [
    "ClearedStoreId",
    "EmailRecipient",
    "EmailSent",
    "OffboardRequest",
    "OffboardResult",
    "OffboardingOut",
    "RevokedCredential",
]
