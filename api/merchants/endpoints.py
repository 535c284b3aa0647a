"""Admin API: accounts, sites, products and Polaris store IDs."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.core.deps import AdminDep, ReadSession, WriteSession
from api.core.schemas import RowIdPath, problem_responses
from api.merchants import service
from api.merchants.schemas import (
    AccountCreate,
    AccountOut,
    ProductCreate,
    ProductOut,
    SiteCreate,
    SiteOut,
    StoreIdsUpdate,
)

router = APIRouter(
    prefix="/admin/accounts",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problem_responses(401, 404, 422),
)


@router.post("", status_code=201, response_model=AccountOut)
def create_account(body: AccountCreate, session: WriteSession) -> AccountOut:
    account = service.create_account(session, body)
    session.commit()
    return AccountOut.model_validate(account)


@router.get("", response_model=list[AccountOut])
def list_accounts(session: ReadSession) -> list[AccountOut]:
    return [AccountOut.model_validate(a) for a in service.list_accounts(session)]


@router.get("/{account_id}", response_model=AccountOut)
def get_account(account_id: RowIdPath, session: ReadSession) -> AccountOut:
    return AccountOut.model_validate(service.get_account(session, account_id))


@router.post(
    "/{account_id}/sites",
    status_code=201,
    response_model=SiteOut,
    responses={
        200: {"model": SiteOut, "description": "The site already existed (same reference)."},
        **problem_responses(409),
    },
)
def add_site(
    account_id: RowIdPath, body: SiteCreate, session: WriteSession, response: Response
) -> SiteOut:
    site, created = service.add_site(session, account_id, body)
    session.commit()
    response.status_code = 201 if created else 200
    return SiteOut.model_validate(site)


@router.get("/{account_id}/sites", response_model=list[SiteOut])
def list_sites(account_id: RowIdPath, session: ReadSession) -> list[SiteOut]:
    return [SiteOut.model_validate(s) for s in service.list_sites(session, account_id)]


@router.put(
    "/{account_id}/store-ids",
    response_model=list[SiteOut],
    responses=problem_responses(409),
    summary="Save Polaris store IDs on sites (all or nothing)",
)
def set_store_ids(
    account_id: RowIdPath, body: StoreIdsUpdate, session: WriteSession
) -> list[SiteOut]:
    sites = service.set_store_ids(session, account_id, body.assignments)
    session.commit()
    return [SiteOut.model_validate(s) for s in sites]


@router.post("/{account_id}/products", status_code=201, response_model=ProductOut)
def create_product(account_id: RowIdPath, body: ProductCreate, session: WriteSession) -> ProductOut:
    product = service.create_product(session, account_id, body)
    session.commit()
    return ProductOut.model_validate(product)


@router.get("/{account_id}/products", response_model=list[ProductOut])
def list_products(account_id: RowIdPath, session: ReadSession) -> list[ProductOut]:
    return [ProductOut.model_validate(p) for p in service.list_products(session, account_id)]
