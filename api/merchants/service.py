"""Rules for accounts, sites, products and Polaris store IDs."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from api.core.errors import AccountNotFound, Conflict, InvalidRequest, SiteNotFound
from api.core.types import utcnow
from api.merchants import repository
from api.merchants.models import Account, Product, Site
from api.merchants.schemas import AccountCreate, ProductCreate, SiteCreate, StoreIdAssignment


def get_account(session: Session, account_id: int) -> Account:
    account = repository.get_account(session, account_id)
    if account is None:
        raise AccountNotFound(f"No account {account_id}.")
    return account


def list_accounts(session: Session) -> list[Account]:
    return repository.list_accounts(session)


def create_account(session: Session, data: AccountCreate) -> Account:
    account = Account(**data.model_dump(), created_at=utcnow())
    session.add(account)
    session.flush()
    return account


def add_site(session: Session, account_id: int, data: SiteCreate) -> tuple[Site, bool]:
    """Add a site, idempotent by reference. Returns the site and whether it is new."""
    get_account(session, account_id)
    existing = repository.site_by_reference(session, account_id, data.reference)
    if existing is not None:
        if (existing.name, existing.address) != (data.name, data.address):
            raise Conflict(
                "site_reference_conflict",
                f"Site reference {data.reference!r} already names another site "
                f"({existing.name!r}, {existing.address!r}).",
                site_id=existing.id,
            )
        return existing, False
    site = Site(account_id=account_id, **data.model_dump(), created_at=utcnow())
    session.add(site)
    session.flush()
    return site, True


def list_sites(session: Session, account_id: int) -> list[Site]:
    get_account(session, account_id)
    return repository.list_sites(session, account_id)


def create_product(session: Session, account_id: int, data: ProductCreate) -> Product:
    get_account(session, account_id)
    product = Product(account_id=account_id, **data.model_dump(), created_at=utcnow())
    session.add(product)
    session.flush()
    return product


def list_products(session: Session, account_id: int) -> list[Product]:
    get_account(session, account_id)
    return repository.list_products(session, account_id)


def set_store_ids(
    session: Session, account_id: int, assignments: list[StoreIdAssignment]
) -> list[Site]:
    """Save Polaris store IDs on sites: every assignment is checked, then all are saved.

    Uniqueness is judged on the result, so swapping two sites' store IDs is allowed.
    """
    get_account(session, account_id)
    sites = {site.id: site for site in repository.list_sites(session, account_id)}

    unknown = sorted({a.site_id for a in assignments} - sites.keys())
    if unknown:
        raise SiteNotFound(
            f"Not sites of account {account_id}: {', '.join(map(str, unknown))}.",
            site_ids=unknown,
        )
    repeated_sites = sorted(s for s, n in Counter(a.site_id for a in assignments).items() if n > 1)
    if repeated_sites:
        raise InvalidRequest(
            f"Each site may be given one store ID; repeated: {', '.join(map(str, repeated_sites))}.",
            site_ids=repeated_sites,
        )
    repeated_stores = sorted(
        s for s, n in Counter(a.store_id for a in assignments).items() if n > 1
    )
    if repeated_stores:
        raise Conflict(
            "duplicate_store_id",
            f"Store IDs given to more than one site: {', '.join(repeated_stores)}.",
            store_ids=repeated_stores,
        )

    final = {site_id: site.store_id for site_id, site in sites.items()}
    final.update({a.site_id: a.store_id for a in assignments})
    changing = {a.site_id for a in assignments}
    taken = {
        store_id: site_id
        for site_id, store_id in final.items()
        if site_id not in changing and store_id is not None
    }
    clashes = [a for a in assignments if a.store_id in taken]
    if clashes:
        raise Conflict(
            "store_id_in_use",
            "; ".join(
                f"store ID {a.store_id!r} is already used by site {taken[a.store_id]} "
                f"({sites[taken[a.store_id]].name})"
                for a in clashes
            )
            + ".",
            store_ids=[a.store_id for a in clashes],
        )

    # Clear first so that a swap never trips the unique index half-way.
    for site_id in changing:
        sites[site_id].store_id = None
    session.flush()
    for assignment in assignments:
        sites[assignment.site_id].store_id = assignment.store_id
    session.flush()
    return [sites[site_id] for site_id in sorted(sites)]
