"""Every ORM model, imported in one place so that alembic sees the whole schema."""

from api.core.db import Base
from api.credentials.models import CredentialStoreUse, IntegrationUser
from api.idempotency.models import IdempotencyRecord
from api.merchants.models import Account, Product, Site
from api.offboardings.models import Offboarding
from api.onboardings.models import Onboarding
from api.store_id_links.models import StoreIdLink
from api.throttle.models import LookupFailure
from api.vouchers.models import LedgerEntry, Voucher

__all__ = [
    "Account",
    "Base",
    "CredentialStoreUse",
    "IdempotencyRecord",
    "IntegrationUser",
    "LedgerEntry",
    "LookupFailure",
    "Offboarding",
    "Onboarding",
    "Product",
    "Site",
    "StoreIdLink",
    "Voucher",
]
