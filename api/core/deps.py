"""FastAPI dependencies shared by every domain, as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.errors import Unauthorized


async def get_context(request: Request) -> LedgerContext:
    # async: nothing to wait for, so FastAPI takes no worker thread for it.
    context: LedgerContext = request.app.state.ledger
    return context


ContextDep = Annotated[LedgerContext, Depends(get_context)]


def read_session(context: ContextDep) -> Iterator[Session]:
    with context.db.reader() as session:
        yield session


def write_session(context: ContextDep) -> Iterator[Session]:
    """A session whose transaction may write; the route commits it before answering."""
    with context.db.writer() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]

_bearer = HTTPBearer(auto_error=False, description="The admin token (LEDGER_ADMIN_TOKEN).")


def require_admin(
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = context.settings.resolved_admin_token()
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("A valid admin bearer token is required.")


AdminDep = Depends(require_admin)
