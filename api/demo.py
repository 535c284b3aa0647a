"""A demo merchant for the sandbox: everything a till developer needs to make calls."""

from __future__ import annotations

import secrets
from typing import Any

from api.core.context import LedgerContext
from api.credentials import service as credentials
from api.merchants import service as merchants
from api.merchants.schemas import (
    AccountCreate,
    ProductCreate,
    SiteCreate,
    StoreIdAssignment,
)

DEMO_SITES = [
    ("The Crown, Soho", "12 Dean Street, London W1D 3RP"),
    ("The Anchor, Bristol", "3 Harbourside, Bristol BS1 5DB"),
]


def create_demo_merchant(context: LedgerContext) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    with context.db.writer() as session:
        account = merchants.create_account(session, AccountCreate(name=f"Demo merchant {tag}"))
        product = merchants.create_product(session, account.id, ProductCreate(name="Gift voucher"))
        sites = [
            merchants.add_site(
                session, account.id, SiteCreate(name=name, address=address, reference=f"demo-{n}")
            )[0]
            for n, (name, address) in enumerate(DEMO_SITES, start=1)
        ]
        merchants.set_store_ids(
            session,
            account.id,
            [
                StoreIdAssignment(site_id=s.id, store_id=f"PLS-{account.id}-{n}")
                for n, s in enumerate(sites, 1)
            ],
        )
        issued = credentials.create(session, context, account.id, label="Demo till")
        session.commit()
        return {
            "account_id": account.id,
            "product_id": product.id,
            "username": issued.user.username,
            "password": issued.password,
            "stores": [{"site_id": s.id, "name": s.name, "store_id": s.store_id} for s in sites],
        }
