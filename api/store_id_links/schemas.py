"""Admin API bodies for store-ID links: defined in the contract package, which the
onboarding flows share, and named here beside the routes that use them."""

from contract.store_id_links import (
    IssuedStoreIdLink,
    StoreIdLinkCreate,
    StoreIdLinkEmailed,
    StoreIdLinkOut,
)

__all__ = ["IssuedStoreIdLink", "StoreIdLinkCreate", "StoreIdLinkEmailed", "StoreIdLinkOut"]
