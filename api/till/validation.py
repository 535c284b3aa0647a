"""Before a till request's 422: the contract checks the credential (the gate did),
then the throttle, then the request's shape. FastAPI reads the body before the route
runs, so its 422 comes first unless asked (api.core.problems.install)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from api.core.errors import LedgerError
from api.till.answers import refusal
from api.till.caller import TillIdentity
from api.till.gate import IDENTITY
from api.till.runtime import TillRuntime


async def before_invalid_till_request(request: Request) -> Response | None:
    identity: TillIdentity | None = request.scope.get("state", {}).get(IDENTITY)
    if identity is None:  # the gate refused it already
        return None
    till: TillRuntime = request.app.state.till
    authorization = request.headers.get("authorization")
    try:
        refused = await till.call(identity, authorization, lambda b, i: b.throttled(i))
    except LedgerError as error:
        refused = refusal(error)
    return None if refused is None else refused.response()
