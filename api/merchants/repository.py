"""Queries for accounts, sites and products."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from api.core.statements import Statements
from api.merchants.models import Account, Product, Site


def get_account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.id)))


def site_by_reference(session: Session, account_id: int, reference: str) -> Site | None:
    return session.scalars(
        select(Site).where(Site.account_id == account_id, Site.reference == reference)
    ).first()


def list_sites(session: Session, account_id: int) -> list[Site]:
    return list(
        session.scalars(select(Site).where(Site.account_id == account_id).order_by(Site.id))
    )


@dataclass(frozen=True)
class ProductForSale:
    id: int
    in_store: bool
    validity_days: int | None


# Every sale at a till on SQLite runs this (api.till.sqlite runs it on the driver).
_PRODUCT_FOR_SALE = select(
    Product.id.label("id"),
    Product.in_store.label("in_store"),
    Product.validity_days.label("validity_days"),
).where(Product.id == bindparam("product_id"), Product.account_id == bindparam("account_id"))


def product_for_sale(db: Statements, account_id: int, product_id: int) -> ProductForSale | None:
    row = db.first(_PRODUCT_FOR_SALE, {"product_id": product_id, "account_id": account_id})
    return None if row is None else ProductForSale(**row)


def get_product(session: Session, account_id: int, product_id: int) -> Product | None:
    product = session.get(Product, product_id)
    return product if product is not None and product.account_id == account_id else None


def list_products(session: Session, account_id: int) -> list[Product]:
    return list(
        session.scalars(
            select(Product).where(Product.account_id == account_id).order_by(Product.id)
        )
    )
