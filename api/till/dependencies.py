"""How a till route reaches the ledger: the caller the gate identified, and the way to
the database (api.till.runtime), taken from the request; and, once the answer is made,
the caller's use of the store noted (api.till.store_uses: a set look-up but the first
time).

Not a FastAPI dependency: FastAPI resolves dependencies anew on every request, and in
bench/'s profiles that cost a till call more than its database read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.responses import Response

from api.core.errors import LedgerError
from api.till.answers import TillAnswer, refusal
from api.till.backend import TillBackend
from api.till.caller import TillIdentity
from api.till.gate import IDENTITY
from api.till.runtime import TillRuntime

Work = Callable[[TillBackend, TillIdentity], Awaitable[TillAnswer]]


async def answer(request: Request, store_id: str, work: Work) -> Response:
    """``work`` for the request's caller at ``store_id`` (the store the call names), as
    the HTTP answer."""
    identity: TillIdentity = request.scope["state"][IDENTITY]
    runtime: TillRuntime = request.app.state.till
    try:
        answered = await runtime.call(identity, request.headers.get("authorization"), work)
    except LedgerError as error:
        answered = refusal(error)
    runtime.store_uses.after_answer(identity.user_id, store_id, answered.status)
    return answered.response()
