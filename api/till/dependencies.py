"""The till routes' dependency: the caller the gate identified, and the way to the
database (api.till.runtime)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from api.core.errors import LedgerError
from api.till.answers import TillAnswer, refusal
from api.till.backend import TillBackend
from api.till.caller import TillIdentity
from api.till.gate import IDENTITY
from api.till.runtime import TillRuntime


@dataclass(frozen=True)
class Till:
    identity: TillIdentity
    authorization: str | None
    runtime: TillRuntime

    async def answer(
        self, work: Callable[[TillBackend, TillIdentity], Awaitable[TillAnswer]]
    ) -> Response:
        try:
            answered = await self.runtime.call(self.identity, self.authorization, work)
        except LedgerError as error:
            answered = refusal(error)
        return answered.response()


async def till(request: Request) -> Till:
    # async: nothing to wait for here, so FastAPI takes no worker thread for it.
    identity: TillIdentity = request.scope["state"][IDENTITY]
    authorization = request.headers.get("authorization")
    return Till(identity, authorization, request.app.state.till)


TillDep = Annotated[Till, Depends(till)]
