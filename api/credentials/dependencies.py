"""The till API's caller: credential first, then the throttle, as the contract orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.core.context import LedgerContext
from api.credentials.service import TillCaller, authenticate
from api.throttle import service as throttle


def identify_till_caller(request: Request) -> TillCaller:
    """Authenticate and throttle-check once per request (also used by error handlers
    that answer before FastAPI ran the dependencies, e.g. for unreadable JSON)."""
    cached: TillCaller | None = getattr(request.state, "till_caller", None)
    if cached is not None:
        return cached
    context: LedgerContext = request.app.state.ledger
    with context.db.reader() as session:
        caller = authenticate(session, context, request.headers.get("authorization"))
        throttle.check(session, context.settings, caller.user_id)
    request.state.till_caller = caller
    return caller


TillDep = Annotated[TillCaller, Depends(identify_till_caller)]
