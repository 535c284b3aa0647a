"""The till API's caller: credential first, then the throttle, as the contract orders.

A till route does all of its database work in one worker thread and, where it can,
one session: the caller is identified on the session the route then uses. FastAPI
runs each sync dependency in a worker thread of its own, and each hop (and each
extra session: a pool checkout, a BEGIN, a ROLLBACK) showed up in bench/'s profiles
as a large share of a till call's cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.credentials.service import TillCaller, authenticate
from api.throttle import service as throttle


def _identify(request: Request, context: LedgerContext, session: Session) -> TillCaller:
    """Authenticate and throttle-check once per request; the caller is kept on the
    request for the error handlers (the throttle counts its failed look-ups)."""
    cached: TillCaller | None = getattr(request.state, "till_caller", None)
    if cached is not None:
        return cached
    caller = authenticate(session, context, request.headers.get("authorization"))
    throttle.check(session, context.settings, caller.user_id)
    request.state.till_caller = caller
    return caller


def identify_till_caller(request: Request) -> TillCaller:
    """The caller, on a read session of its own (for error handlers that answer
    before the route ran, e.g. for unreadable JSON)."""
    context: LedgerContext = request.app.state.ledger
    with context.db.reader() as session:
        return _identify(request, context, session)


@dataclass(frozen=True)
class TillCall:
    """A till request's way into the ledger, used from inside the route."""

    request: Request
    context: LedgerContext

    @contextmanager
    def reading(self) -> Iterator[tuple[Session, TillCaller]]:
        with self.context.db.reader() as session:
            yield session, _identify(self.request, self.context, session)

    @contextmanager
    def writing(self) -> Iterator[tuple[Session, TillCaller]]:
        """A write session (the route commits it) and the caller identified for it."""
        if self.context.db.writes_lock_database:
            # SQLite: a write transaction holds the database's one write lock from its
            # start, so the caller is identified before it (a first call's argon2
            # verification must not keep every other till waiting).
            caller = identify_till_caller(self.request)
            with self.context.db.writer() as session:
                yield session, caller
            return
        with self.context.db.writer() as session:
            yield session, _identify(self.request, self.context, session)


async def till_call(request: Request) -> TillCall:
    # async: nothing to wait for here, so no worker thread is taken for it.
    return TillCall(request=request, context=request.app.state.ledger)


TillDep = Annotated[TillCall, Depends(till_call)]
