"""A real SMTP server on loopback (aiosmtpd), which keeps what it receives.

It can require a login (AUTH LOGIN/PLAIN), offer STARTTLS or speak TLS from the
first byte, and refuse the next N messages with a chosen reply, so the sending code
is tested against the protocol and not a mock of smtplib.

One server can serve many tests at once: each test sends to addresses of its own and
reads ``messages_to(address)``; a refusal can be kept for one recipient
(``refuse_next(to=address)``) so it never meets another test's message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from harness.processes import free_port
from harness.tls import LoopbackTls

Stage = Literal["rcpt", "data"]


@dataclass
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None
    over_tls: bool


@dataclass
class _Refusal:
    reply: str
    stage: Stage
    to: str | None  # None: whichever message comes next


def _folded(address: str) -> str:
    return address.strip().lower()


class RecordingHandler:
    """aiosmtpd handler: stores each accepted message, refuses on request."""

    def __init__(self) -> None:
        self.received: list[ReceivedEmail] = []
        self._refusals: list[_Refusal] = []
        self._lock = threading.Lock()

    def refuse_next(
        self,
        count: int = 1,
        code: int = 550,
        text: str = "5.7.1 Message refused",
        *,
        at: Stage = "data",
        to: str | None = None,
    ) -> None:
        """Answer the next ``count`` messages (to ``to`` only, when given) with
        ``code text`` at RCPT TO or at DATA."""
        with self._lock:
            self._refusals.extend(_Refusal(f"{code} {text}", at, to) for _ in range(count))

    def _take_refusal(self, stage: Stage, recipients: list[str]) -> str | None:
        """The first refusal meant for this message, if it is meant for this stage."""
        folded = [_folded(r) for r in recipients]
        with self._lock:
            for index, refusal in enumerate(self._refusals):
                if refusal.to is None or _folded(refusal.to) in folded:
                    if refusal.stage != stage:
                        return None
                    return self._refusals.pop(index).reply
        return None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._take_refusal("rcpt", [address])
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._take_refusal("data", list(envelope.rcpt_tos))
        if refusal:
            return refusal
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        login = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        with self._lock:
            self.received.append(
                ReceivedEmail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=parsed,
                    raw=raw,
                    authenticated_as=login,
                    # Both STARTTLS and implicit TLS leave an SSL object on the transport.
                    over_tls=server.transport is not None
                    and server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    username: str | None = None
    password: str | None = None
    tls: LoopbackTls | None = None
    _controller: Controller | None = field(default=None, repr=False)

    @property
    def messages(self) -> list[EmailMessage]:
        return [received.message for received in self.handler.received]

    @property
    def received(self) -> list[ReceivedEmail]:
        return self.handler.received

    def messages_to(self, address: str) -> list[EmailMessage]:
        """The messages accepted for ``address`` (an envelope recipient), in order."""
        wanted = _folded(address)
        with self.handler._lock:
            received = list(self.handler.received)
        return [r.message for r in received if wanted in {_folded(t) for t in r.rcpt_tos}]

    def refuse_next(
        self,
        count: int = 1,
        code: int = 550,
        text: str = "5.7.1 Message refused",
        *,
        at: Stage = "data",
        to: str | None = None,
    ) -> None:
        self.handler.refuse_next(count, code, text, at=at, to=to)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def start_smtp_server(
    *,
    username: str | None = None,
    password: str | None = None,
    starttls: LoopbackTls | None = None,
    implicit_tls: LoopbackTls | None = None,
) -> SmtpServer:
    """Start a server on 127.0.0.1 and a free port; the caller must ``stop()`` it.

    With ``username``/``password`` a login is required before MAIL FROM (AUTH over
    plain text is allowed: this is loopback, and it keeps the no-TLS case testable).
    """
    handler = RecordingHandler()
    options: dict[str, Any] = {}
    if username is not None:
        options.update(
            authenticator=_authenticator(username, password or ""),
            auth_required=True,
            auth_require_tls=False,
        )
    if starttls is not None:
        options["tls_context"] = starttls.server_context()
    if implicit_tls is not None:
        options["ssl_context"] = implicit_tls.server_context()

    # aiosmtpd's Controller needs a concrete port (it connects to it to finish
    # starting), so ask the OS for one that is free now.
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return SmtpServer(
        host="127.0.0.1",
        port=port,
        handler=handler,
        username=username,
        password=password,
        tls=starttls or implicit_tls,
        _controller=controller,
    )


def _authenticator(username: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            mechanism in {"LOGIN", "PLAIN"}
            and isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate
