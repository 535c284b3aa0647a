"""The store-ID page, step by step: the link is checked (its signature first, costing
no database work for a forged one; then its row, counting the visit against its rate
limit), the waiting flow run is looked up in Prefect, and a submitted form is read,
checked exactly as the flow checks an answer, and sent to the run through Prefect's
resume call. Prefect stays the source of truth: the flow's own "save store IDs"
stage saves them.

Database work runs in the worker threads (sessions are not shared across threads);
the calls to Prefect are awaited on the event loop, so they hold no thread.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.core.context import LedgerContext
from api.core.types import utcnow
from api.store_id_links import pages, service
from api.store_id_links.forms import read_form
from api.store_id_links.prefect_api import (
    Outcome,
    PrefectApi,
    PrefectUnavailable,
    RunState,
)
from api.store_id_links.service import LinkClosed, OpenLink
from contract.store_ids import field_name, store_id_problems

logger = logging.getLogger("api.store_id_links")

PREFECT_DOWN = (
    "We could not pass your store IDs on just now: nothing was sent, and what you typed "
    "is below. Please press \u201cSend store IDs\u201d again in a minute."
)
# The answer went out, and whether it arrived could not be learned: sending it again is
# safe (a run that took it already says so).
PREFECT_UNSURE = (
    "We could not confirm that your store IDs were passed on. What you typed is below: "
    "please press \u201cSend store IDs\u201d again in a minute."
)


async def show(context: LedgerContext, prefect: PrefectApi, token: str) -> HTMLResponse:
    link = await _open(context, token)
    try:
        await _waiting_run(prefect, link)
    except PrefectUnavailable as error:
        # The form needs nothing of Prefect's; sending it will say if Prefect is still down.
        logger.warning("store-ID link %s: %s", link.link_row_id, error)
    return pages.form(link, token)


async def submit(
    context: LedgerContext, prefect: PrefectApi, request: Request, token: str
) -> HTMLResponse:
    link = await _open(context, token)
    submitted = await read_form(request, token, link.sites, context.settings.public_url)
    # A run that no longer waits (answered already, cancelled...) says so whatever was
    # typed; with Prefect out of reach the answer is still checked, and kept.
    waiting: RunState | None
    try:
        waiting = await _waiting_run(prefect, link)
    except PrefectUnavailable as error:
        logger.warning("store-ID link %s: %s", link.link_row_id, error)
        waiting = None
    answer = submitted.answer()
    problems = store_id_problems(answer, link.scope, link.account_sites)
    if problems:
        return pages.form(link, token, values=submitted.values, problems=problems, status=422)
    run_input = {field_name(site_id): value for site_id, value in answer.items()}
    try:
        if waiting is None:
            raise PrefectUnavailable("Prefect could not be asked whether the run waits")
        result = await prefect.resume(link.flow_run_id, waiting, run_input)
    except PrefectUnavailable as error:
        logger.warning("store-ID link %s: not sent: %s", link.link_row_id, error)
        notice = PREFECT_UNSURE if error.maybe_sent else PREFECT_DOWN
        return pages.form(link, token, values=submitted.values, notice=notice)
    if result.outcome is Outcome.TAKEN:
        at = utcnow()
        await run_in_threadpool(_record_use, context, link.link_row_id, at)
        logger.info(
            "store-ID link %s: store IDs sent to flow run %s of onboarding %s",
            link.link_row_id,
            link.flow_run_id,
            link.onboarding_id,
        )
        return pages.received(link, answer, at)
    if result.outcome is Outcome.REFUSED:
        logger.warning("store-ID link %s: Prefect refused: %s", link.link_row_id, result.reason)
    raise _after(result.outcome, link)


async def _open(context: LedgerContext, token: str) -> OpenLink:
    link_id = service.signer(context.settings).link_id(token)
    if link_id is None:
        raise LinkClosed("invalid")
    return await run_in_threadpool(_open_in_thread, context, link_id, utcnow())


def _open_in_thread(context: LedgerContext, link_id: str, now: datetime) -> OpenLink:
    with context.db.writer() as session:
        try:
            link = service.open_link(session, context.settings, link_id, now)
        except LinkClosed:
            session.commit()  # the visit counts all the same
            raise
        session.commit()
        return link


def _record_use(context: LedgerContext, link_row_id: int, at: datetime) -> None:
    with context.db.writer() as session:
        service.record_use(session, link_row_id, at)
        session.commit()


async def _waiting_run(prefect: PrefectApi, link: OpenLink) -> RunState:
    """The flow run, waiting for store IDs; LinkClosed when it no longer waits."""
    try:
        UUID(link.flow_run_id)
    except ValueError:
        raise LinkClosed("closed", link.merchant, status="not a Prefect flow run") from None
    run = await prefect.read_run(link.flow_run_id)
    if run is None:
        raise _after(Outcome.GONE, link)
    if run.waiting_for_input:
        if run.pause_timeout is not None and run.pause_timeout <= utcnow():
            raise LinkClosed("timed_out", link.merchant)  # Prefect has yet to fail it
        return run
    if run.type in ("FAILED", "CRASHED"):
        if run.pause_timeout is not None and run.timestamp and run.timestamp >= run.pause_timeout:
            raise LinkClosed("timed_out", link.merchant)
        raise LinkClosed("closed", link.merchant, status=run.type.lower())
    if run.type in ("CANCELLED", "CANCELLING"):
        raise LinkClosed("closed", link.merchant, status="cancelled")
    raise _after(Outcome.ANSWERED_ELSEWHERE, link)


def _after(outcome: Outcome, link: OpenLink) -> LinkClosed:
    if outcome is Outcome.ANSWERED_ELSEWHERE:
        if link.used_at is not None:
            return LinkClosed("received_here", link.merchant, used_at=link.used_at)
        return LinkClosed("answered_elsewhere", link.merchant)
    if outcome is Outcome.TIMED_OUT:
        return LinkClosed("timed_out", link.merchant)
    if outcome is Outcome.REFUSED:
        return LinkClosed("refused", link.merchant)
    return LinkClosed("closed", link.merchant, status="no longer known to Prefect")
