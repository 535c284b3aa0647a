"""The one place where errors become RFC 9457 problem-details responses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.core.db import is_unreachable
from api.core.errors import InvalidRequest, LedgerError, TooManyAttempts, Unauthorized, Unavailable

logger = logging.getLogger("api.errors")

PROBLEM_JSON = "application/problem+json"
TILL_PREFIX = "/v1/"
TILL_AUTHENTICATE = 'Basic realm="toggle"'

# What the till path answers instead of a till request's 422, when the contract's
# earlier checks refuse it (the throttle: api.till.validation); None lets the 422 go.
BeforeInvalidTillRequest = Callable[[Request], Awaitable[Response | None]]


def problem_response(error: LedgerError, request: Request) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(error, Unauthorized):
        is_till = request.url.path.startswith(TILL_PREFIX)
        headers["WWW-Authenticate"] = TILL_AUTHENTICATE if is_till else "Bearer"
    if isinstance(error, TooManyAttempts | Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        error.problem(), status_code=error.status, headers=headers, media_type=PROBLEM_JSON
    )


async def _ledger_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    return problem_response(error, request)


def _validation_handler(
    before_invalid_till_request: BeforeInvalidTillRequest | None,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if before_invalid_till_request is not None and request.url.path.startswith(TILL_PREFIX):
            # FastAPI reads JSON before the route runs; the contract checks the
            # credential (the gate did) and the throttle first.
            earlier = await before_invalid_till_request(request)
            if earlier is not None:
                return earlier
        problem = InvalidRequest("The request is malformed: " + _summary(error.errors()))
        problem.extra["errors"] = [_public(e) for e in error.errors()]
        return problem_response(problem, request)

    return handle


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


def _http_handler(
    invalid: Callable[[Request, Exception], Awaitable[Response]],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 400:
            # FastAPI answers 400 to a body it cannot decode at all (e.g. not UTF-8). To
            # the contract that is bad JSON like any other: 422 invalid_request.
            unreadable = RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body",),
                        "msg": "The body is not readable JSON.",
                    }
                ]
            )
            return await invalid(request, unreadable)
        return _http_problem(error)

    return handle


def _http_problem(error: StarletteHTTPException) -> JSONResponse:
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


def install(
    app: FastAPI, *, before_invalid_till_request: BeforeInvalidTillRequest | None = None
) -> None:
    invalid = _validation_handler(before_invalid_till_request)
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, _http_handler(invalid))
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
