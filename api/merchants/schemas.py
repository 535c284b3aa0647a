"""Admin API bodies for accounts, sites, products and store IDs: defined in the contract
package, which the ledger's clients share, and named here beside the routes that use them."""

from contract.merchants import (
    AccountCreate,
    AccountOut,
    ProductCreate,
    ProductOut,
    SiteCreate,
    SiteOut,
    StoreIdAssignment,
    StoreIdsUpdate,
    StoreIdText,
    Text,
)

__all__ = [
    "AccountCreate",
    "AccountOut",
    "ProductCreate",
    "ProductOut",
    "SiteCreate",
    "SiteOut",
    "StoreIdAssignment",
    "StoreIdText",
    "StoreIdsUpdate",
    "Text",
]
