"""A local stand-in for Twilio's Messages API, for the real twilio client to talk to.

The Twilio cloud cannot be reached from tests, so this is the one fake; the official
client still builds and sends every request over real HTTP on loopback. It speaks
just enough of ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic
auth (sid:token), form fields To/From/Body, a 201 with a Twilio-shaped message, and
Twilio-shaped errors on request.

One stand-in can serve many tests at once: each test texts numbers of its own and
reads ``messages_to(number)`` and ``requests_to(number)``; ``fail_next(to=number)``
keeps a failure for that number.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from harness import loopback_http

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21211: "Invalid 'To' Phone Number",
    21604: "A 'To' phone number is required.",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
}


@dataclass(frozen=True)
class StandinMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    basic_auth: tuple[str, str]


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    to: str | None  # None: whichever request comes next


@dataclass
class TwilioStandin:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    from_number: str = "+447700900001"
    messages: list[StandinMessage] = field(default_factory=list)
    requests: int = 0
    base_url: str = ""
    _requests_to: dict[str, int] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def fail_next(
        self,
        count: int = 1,
        status: int = 400,
        code: int = 21211,
        message: str | None = None,
        *,
        to: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests (to ``to`` only, when given) with a
        Twilio error JSON."""
        text = message or ERROR_MESSAGES.get(code, "Error")
        with self._lock:
            self._failures.extend(_Failure(status, code, text, to) for _ in range(count))

    def messages_to(self, number: str) -> list[StandinMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def requests_to(self, number: str) -> int:
        """Requests that reached the Messages API for ``number``, failed ones too."""
        with self._lock:
            return self._requests_to.get(number, 0)

    def start(self) -> TwilioStandin:
        standin = self

        class Handler(_MessagesHandler):
            owner = standin

        self._server = loopback_http.serve_in_thread(Handler, "twilio-standin")
        self.base_url = loopback_http.url_of(self._server)
        return self

    def stop(self) -> None:
        loopback_http.stop(self._server)
        self._server = None

    def _next_failure(self, to: str) -> _Failure | None:
        with self._lock:
            self.requests += 1
            self._requests_to[to] = self._requests_to.get(to, 0) + 1
            for index, failure in enumerate(self._failures):
                if failure.to is None or failure.to == to:
                    return self._failures.pop(index)
            return None

    def _record(self, message: StandinMessage) -> None:
        with self._lock:
            self.messages.append(message)


class _MessagesHandler(BaseHTTPRequestHandler):
    owner: TwilioStandin

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        owner = self.owner

        match = MESSAGES_PATH.match(self.path)
        if match is None:
            self._error(404, 20404)
            return
        auth = _basic_auth(self.headers.get("Authorization"))
        if auth != (owner.account_sid, owner.auth_token) or match["sid"] != owner.account_sid:
            self._error(401, 20003)
            return
        failure = owner._next_failure(form.get("To", ""))
        if failure is not None:
            self._error(failure.status, failure.code, failure.message)
            return
        if not form.get("To"):
            self._error(400, 21604)
            return

        message = StandinMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=owner.account_sid,
            to=form["To"],
            from_=form.get("From", ""),
            body=form.get("Body", ""),
            basic_auth=auth,
        )
        owner._record(message)
        self._json(201, _message_resource(message))

    def do_GET(self) -> None:
        self._error(404, 20404)

    def _error(self, status: int, code: int, message: str | None = None) -> None:
        self._json(
            status,
            {
                "code": code,
                "message": message or ERROR_MESSAGES.get(code, HTTPStatus(status).phrase),
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: the request line would be noise in pytest's output.
        pass


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _message_resource(message: StandinMessage) -> dict[str, Any]:
    now = formatdate(usegmt=True)
    uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}"
    return {
        "account_sid": message.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }
