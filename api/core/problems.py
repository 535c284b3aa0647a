"""The one place where errors become RFC 9457 problem-details responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.db import is_unreachable
from api.core.errors import (
    InvalidRequest,
    LedgerError,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
    VoucherNotFound,
)
from api.credentials.dependencies import identify_till_caller
from api.throttle.service import record_failure

logger = logging.getLogger("api.errors")

PROBLEM_JSON = "application/problem+json"
TILL_PREFIX = "/v1/"


def problem_response(error: LedgerError, request: Request) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(error, Unauthorized):
        is_till = request.url.path.startswith(TILL_PREFIX)
        headers["WWW-Authenticate"] = 'Basic realm="toggle"' if is_till else "Bearer"
    if isinstance(error, TooManyAttempts | Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        error.problem(), status_code=error.status, headers=headers, media_type=PROBLEM_JSON
    )


async def _ledger_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    caller = getattr(request.state, "till_caller", None)
    if isinstance(error, VoucherNotFound) and caller is not None:
        try:
            await run_in_threadpool(record_failure, request.app.state.ledger, caller.user_id)
        except TooManyAttempts as throttled:
            # Parallel look-ups used up the allowance first: this one is not a 404.
            return problem_response(throttled, request)
    return problem_response(error, request)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    if request.url.path.startswith(TILL_PREFIX):
        # FastAPI reads JSON before it runs dependencies; the contract checks the
        # credential and the throttle first, so do that before answering 422.
        try:
            await run_in_threadpool(identify_till_caller, request)
        except LedgerError as first_failure:
            return problem_response(first_failure, request)
    problem = InvalidRequest("The request is malformed: " + _summary(error.errors()))
    problem.extra["errors"] = [_public(e) for e in error.errors()]
    return problem_response(problem, request)


def _summary(errors: Any) -> str:
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors]
    return "; ".join(parts[:5]) or "unreadable request"


def _public(error: dict[str, Any]) -> dict[str, Any]:
    # The offending input is left out: it may be a card number or something secret.
    return {
        "loc": list(error.get("loc", ())),
        "msg": str(error.get("msg", "")),
        "type": error.get("type"),
    }


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # FastAPI answers 400 to a body it cannot decode at all (e.g. not UTF-8). To the
        # contract that is bad JSON like any other: 422 invalid_request, credential first.
        unreadable = RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not readable JSON."}]
        )
        return await _validation_error(request, unreadable)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {
        "type": f"/problems/{codes.get(error.status_code, 'http_error')}",
        "title": str(error.detail),
        "status": error.status_code,
        "detail": str(error.detail),
        "code": codes.get(error.status_code, "http_error"),
    }
    return JSONResponse(
        body, status_code=error.status_code, headers=error.headers, media_type=PROBLEM_JSON
    )


def unavailable(error: DBAPIError) -> Unavailable | None:
    """The 503 to answer when ``error`` means the database could not be reached."""
    if not is_unreachable(error):
        return None
    logger.warning("database unreachable (%s): answered 503", type(error.orig).__name__)
    return Unavailable(
        "The ledger's database could not be reached; nothing was changed. "
        "Retry with the same reference."
    )


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DBAPIError)
    problem = unavailable(error)
    if problem is None:
        return await _unexpected(request, error)
    return problem_response(problem, request)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # The route's template, not the URL: a URL may hold a card number.
    route = getattr(request.scope.get("route"), "path", "?")
    logger.exception("unexpected error on %s %s", request.method, route)
    body = {
        "type": "/problems/internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "Something went wrong on our side; nothing was changed.",
        "code": "internal_error",
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
