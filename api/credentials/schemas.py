"""Admin API bodies for integration users: defined in the contract package, which the
ledger's clients share, and named here beside the routes that use them."""

from contract.credentials import (
    CredentialStoreUseOut,
    IntegrationUserCreate,
    IntegrationUserOut,
    IssuedIntegrationUser,
)

__all__ = [
    "CredentialStoreUseOut",
    "IntegrationUserCreate",
    "IntegrationUserOut",
    "IssuedIntegrationUser",
]
