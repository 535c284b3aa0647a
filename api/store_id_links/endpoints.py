"""Store-ID links: the admin API the onboarding flow asks for its link through, and
the public page the link opens (``/polaris/store-ids/{token}``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError

from api.core.config import Settings
from api.core.deps import AdminDep, ContextDep, ReadSession, WriteSession
from api.core.schemas import MAX_ROW_ID, RowIdPath, problem_responses
from api.core.types import utcnow
from api.onboardings.models import Onboarding
from api.store_id_links import page, pages, service
from api.store_id_links.models import StoreIdLink
from api.store_id_links.prefect_api import PrefectApi
from api.store_id_links.schemas import (
    IssuedStoreIdLink,
    StoreIdLinkCreate,
    StoreIdLinkEmailed,
    StoreIdLinkOut,
)
from api.store_id_links.service import PAGE_PATH, LinkClosed

logger = logging.getLogger("api.store_id_links")

admin_router = APIRouter(
    prefix="/admin",
    tags=["admin", "store-ID links"],
    dependencies=[AdminDep],
    responses=problem_responses(401, 404, 409, 422),
)


@admin_router.post(
    "/onboardings/{onboarding_id}/store-id-link",
    status_code=201,
    response_model=IssuedStoreIdLink,
    summary="The store-ID link of the onboarding's current flow run, for its email",
    responses={200: {"model": IssuedStoreIdLink, "description": "The run's link, made before."}},
)
def issue_link(
    onboarding_id: RowIdPath,
    body: StoreIdLinkCreate,
    session: WriteSession,
    context: ContextDep,
    response: Response,
) -> IssuedStoreIdLink:
    now = utcnow()
    link, onboarding, created = service.issue(session, onboarding_id, body, now)
    issued = _issued(context.settings, link, onboarding, now)
    session.commit()
    response.status_code = 201 if created else 200
    return issued


@admin_router.get(
    "/onboardings/{onboarding_id}/store-id-link",
    response_model=IssuedStoreIdLink,
    summary="The store-ID link of the onboarding's current flow run (for a reminder)",
)
def current_link(
    onboarding_id: RowIdPath, session: ReadSession, context: ContextDep
) -> IssuedStoreIdLink:
    link, onboarding = service.current(session, onboarding_id)
    return _issued(context.settings, link, onboarding, utcnow())


@admin_router.post(
    "/onboardings/{onboarding_id}/store-id-link/emailed",
    response_model=StoreIdLinkOut,
    summary="Record that a flow run's store-ID link was emailed to Polaris",
)
def link_emailed(
    onboarding_id: RowIdPath, body: StoreIdLinkEmailed, session: WriteSession
) -> StoreIdLinkOut:
    link, onboarding = service.record_emailed(session, onboarding_id, body, utcnow())
    out = _out(link, onboarding, utcnow())
    session.commit()
    return out


@admin_router.get(
    "/store-id-links",
    response_model=list[StoreIdLinkOut],
    summary="What became of the store-ID links (never the links themselves)",
)
def list_links(
    session: ReadSession,
    onboarding_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    flow_run_id: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]*$")] = None,
) -> list[StoreIdLinkOut]:
    now = utcnow()
    return [
        _out(link, onb, now) for link, onb in service.listed(session, onboarding_id, flow_run_id)
    ]


def _out(link: StoreIdLink, onboarding: Onboarding, now: datetime) -> StoreIdLinkOut:
    return StoreIdLinkOut(
        id=link.id,
        onboarding_id=link.onboarding_id,
        flow_run_id=link.flow_run_id,
        state=service.state_of(link, onboarding, now),
        created_at=link.created_at,
        expires_at=link.expires_at,
        emailed_at=link.emailed_at,
        used_at=link.used_at,
        replaced_at=link.replaced_at,
    )


def _issued(
    settings: Settings, link: StoreIdLink, onboarding: Onboarding, now: datetime
) -> IssuedStoreIdLink:
    out = _out(link, onboarding, now)
    return IssuedStoreIdLink(**out.model_dump(), url=service.url_of(settings, link))


# --- The page -----------------------------------------------------------------------

# No OpenAPI entry: it is a page for people, not an API. Anything under the path is
# taken as a token (one with a slash is refused as any other bad one is), so that no
# mangled link gets the API's JSON 404.
page_router = APIRouter(prefix=PAGE_PATH, include_in_schema=False)


async def prefect_api(request: Request, context: ContextDep) -> PrefectApi:
    """One per app (its limit on concurrent calls to Prefect is the process's)."""
    api: PrefectApi | None = getattr(request.app.state, "store_id_prefect_api", None)
    if api is None:
        api = request.app.state.store_id_prefect_api = PrefectApi(context.settings)
    return api


PrefectDep = Annotated[PrefectApi, Depends(prefect_api)]


@page_router.get("/{token:path}", response_class=HTMLResponse)
async def show_form(token: str, context: ContextDep, prefect: PrefectDep) -> HTMLResponse:
    return await _answered(page.show(context, prefect, token))


@page_router.post("/{token:path}", response_class=HTMLResponse)
async def submit_form(
    token: str, request: Request, context: ContextDep, prefect: PrefectDep
) -> HTMLResponse:
    return await _answered(page.submit(context, prefect, request, token))


async def _answered(answer: Awaitable[HTMLResponse]) -> HTMLResponse:
    """Every way a link cannot be used is a page for a person, never a traceback."""
    try:
        return await answer
    except LinkClosed as refusal:
        return pages.closed(refusal)
    except DBAPIError as error:
        logger.warning("store-ID page: database error (%s)", type(error.orig).__name__)
        return pages.unavailable()
