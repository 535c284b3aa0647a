"""The till API's caller: credential first, then the throttle, then the store, as the
contract orders.

A till route does all of its database work in one worker thread and, where it can,
one session: the caller is identified on the session the route then uses. FastAPI
runs each sync dependency in a worker thread of its own, and each hop (and each
extra session: a pool checkout, a BEGIN, a ROLLBACK) showed up in bench/'s profiles
as a large share of a till call's cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.db import read_once_more
from api.core.types import utcnow
from api.credentials.service import TillCaller, authenticate
from api.throttle import service as throttle
from api.vouchers.repository import VoucherView

T = TypeVar("T")


def _identify(
    request: Request,
    context: LedgerContext,
    session: Session,
    store_id: str | None,
    voucher_code: str | None = None,
) -> tuple[TillCaller, VoucherView | None]:
    """Authenticate, throttle-check and find the store's site (and, when asked, the
    voucher), once per request; the caller is kept on the request for the error
    handlers (the throttle counts its failed look-ups)."""
    cached: TillCaller | None = getattr(request.state, "till_caller", None)
    if cached is not None and cached.store_id == store_id and voucher_code is None:
        return cached, None
    now = utcnow()
    authorization = request.headers.get("authorization")
    found = authenticate(
        session, context, authorization, store_id=store_id, now=now, voucher_code=voucher_code
    )
    throttle.check(context.settings, found.throttling_failure_at, now)
    request.state.till_caller = found.caller
    return found.caller, found.voucher


def identify_till_caller(request: Request, store_id: str | None = None) -> TillCaller:
    """The caller, on a read session of its own (also for error handlers that answer
    before the route ran, e.g. for unreadable JSON)."""
    context: LedgerContext = request.app.state.ledger

    def read() -> TillCaller:
        with context.db.reader() as session:
            caller, _ = _identify(request, context, session, store_id)
            return caller

    return read_once_more(read)


@dataclass(frozen=True)
class TillCall:
    """A till request's way into the ledger, used from inside the route."""

    request: Request
    context: LedgerContext

    def read_voucher(
        self, store_id: str, code: str | None
    ) -> tuple[TillCaller, VoucherView | None]:
        """The caller at ``store_id`` and its account's voucher ``code`` (normalised;
        None: no voucher), read together: a balance check's one statement."""
        return self.read_with_voucher(store_id, code, lambda _, caller, voucher: (caller, voucher))

    def read_with_voucher(
        self,
        store_id: str,
        code: str | None,
        then: Callable[[Session, TillCaller, VoucherView | None], T],
    ) -> T:
        """``read_voucher``, and then ``then`` on the same read session (a statement
        reads the voucher's entries with it)."""

        def read() -> T:
            with self.context.db.reader() as session:
                caller, voucher = _identify(
                    self.request, self.context, session, store_id, voucher_code=code
                )
                return then(session, caller, voucher)

        return read_once_more(read)

    @contextmanager
    def writing(self, store_id: str) -> Iterator[tuple[Session, TillCaller]]:
        """A write session (the route commits it) and the caller at ``store_id``."""
        if self.context.db.writes_lock_database:
            # SQLite: a write transaction holds the database's one write lock from its
            # start, so the caller is identified before it (a legacy credential's argon2
            # verification must not keep every other till waiting).
            caller = identify_till_caller(self.request, store_id)
            with self.context.db.writer() as session:
                yield session, caller
            return
        with self.context.db.writer() as session:
            caller, _ = _identify(self.request, self.context, session, store_id)
            yield session, caller


async def till_call(request: Request) -> TillCall:
    # async: nothing to wait for here, so no worker thread is taken for it.
    return TillCall(request=request, context=request.app.state.ledger)


TillDep = Annotated[TillCall, Depends(till_call)]
