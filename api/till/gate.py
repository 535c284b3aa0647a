"""The till API's front door, as pure ASGI middleware: every till request has its
credential checked (authentication.Authenticator) before anything else of it is read,
and a body over ``MAX_BODY_BYTES`` is refused with ``413 request_too_large`` without
reading the rest of it.

FastAPI reads and parses a request's whole body before it runs a route's
dependencies, so without this a client with no credential could make every process
read megabytes per request (till-api.md: "checked after the credential, without
reading the rest of the body"; design.md: nothing expensive runs for a caller before
it is known). The body is read here, up to the limit, and handed on to the app as one
message; a declared ``Content-Length`` over the limit is refused before any of it is
read, and a chunked body is counted as it streams in. The caller goes on to the route
in the request's state (``till_identity``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import LedgerError, RequestTooLarge
from api.core.problems import TILL_PREFIX
from api.till.answers import TillAnswer, refusal
from api.till.caller import TillIdentity
from api.till.runtime import TillRuntime

MAX_BODY_BYTES = 64 * 1024
IDENTITY = "till_identity"


class TillRequestGate:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(TILL_PREFIX):
            await self.app(scope, receive, send)
            return
        authorization: str | None = None
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value.strip()
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        till: TillRuntime = scope["app"].state.till
        try:
            identity = await till.authenticator.identify(authorization)
        except LedgerError as error:
            await self._answer(refusal(error), scope, receive, send)
            return
        scope.setdefault("state", {})[IDENTITY] = identity
        if not chunked and (declared is None or declared in (b"", b"0")):
            await self.app(scope, receive, send)  # no body: nothing more to guard
            return

        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            too_large = await self._too_large(till, identity, authorization)
            await self._answer(too_large, scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _TooLarge:
            too_large = await self._too_large(till, identity, authorization)
            await self._answer(too_large, scope, receive, send)
            return
        except _Disconnected:
            return  # nobody to answer, and nothing for the app to do
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
                raise _TooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(
        self, till: TillRuntime, identity: TillIdentity, authorization: str | None
    ) -> TillAnswer:
        # The contract's order: the throttle answers before anything about the request.
        try:
            throttled = await till.call(identity, authorization, lambda b, i: b.throttled(i))
        except LedgerError as error:
            return refusal(error)
        if throttled is not None:
            return throttled
        return refusal(
            RequestTooLarge(
                f"The request body is over {self.max_body_bytes // 1024} KB; till requests "
                "are far smaller."
            )
        )

    @staticmethod
    async def _answer(answer: TillAnswer, scope: Scope, receive: Receive, send: Send) -> None:
        await answer.response()(scope, receive, send)


class _Disconnected(Exception):
    """The client left while its body was being read."""


class _TooLarge(Exception):
    """The body went over the limit as it streamed in."""


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed
