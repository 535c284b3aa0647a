"""The till API's front door, as pure ASGI middleware: a till request that carries a
body has its credential checked (and the throttle, which the contract orders next)
before any of the body is read, and a body over ``MAX_BODY_BYTES`` is refused with
``413 request_too_large`` without reading the rest of it.

FastAPI reads and parses a request's whole body before it runs a route's
dependencies, so without this a client with no credential could make every process
read megabytes per request (till-api.md: "checked after the credential, without
reading the rest of the body"; design.md: nothing expensive runs for a caller before
it is known). The body is read here, up to the limit, and handed on to the app as one
message; a declared ``Content-Length`` over the limit is refused before any of it is
read, and a chunked body is counted as it streams in.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import LedgerError, RequestTooLarge
from api.core.problems import TILL_PREFIX, problem_response, unavailable
from api.credentials.dependencies import identify_till_caller

MAX_BODY_BYTES = 64 * 1024


class TillRequestGate:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(TILL_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and (declared is None or declared.strip() in ("", "0")):
            await self.app(scope, receive, send)  # no body: nothing to guard
            return

        request = Request(scope)
        try:
            # The caller is kept on the request (request.state), as the routes keep it.
            await run_in_threadpool(identify_till_caller, request)
            if declared and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
                raise self._too_large()
            body = await self._read_body(receive)
        except LedgerError as error:
            await problem_response(error, request)(scope, receive, send)
            return
        except _Disconnected:
            return  # nobody to answer, and nothing for the app to do
        except DBAPIError as error:
            # Outside the app's exception handlers (this runs before it): the same 503.
            problem = unavailable(error)
            if problem is None:
                raise
            await problem_response(problem, request)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"The request body is over {self.max_body_bytes // 1024} KB; till requests are far "
            "smaller."
        )


class _Disconnected(Exception):
    """The client left while its body was being read."""


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed
