"""A loopback HTTP proxy in front of a real service (the ledger, Prefect's API) that
misbehaves on cue: it answers an error to the next matching requests, or passes a
request on and alters the JSON the service answered. Everything else it forwards as
it is. The tests point a client at ``proxy.url`` in place of the service's.

    with FaultyProxy(ledger.url) as proxy:
        proxy.fail_next("GET", r"/admin/onboardings/\\d+$", status=503)
        ...
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from harness import loopback_http

Rewrite = Callable[[Any], Any]

# Not passed on either way: they describe one hop, or a body this proxy re-encodes.
_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
}


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    remaining: int
    status: int = 503
    rewrite: Rewrite | None = None
    forward: bool = False  # pass the request on, then answer ``status`` all the same

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and method == self.method and bool(self.path.search(path))


@dataclass
class Seen:
    method: str
    path: str
    status: int
    faulted: bool


@dataclass
class FaultyProxy:
    upstream: str
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _client: httpx.Client | None = None

    def fail_next(self, method: str, path: str, *, status: int = 503, times: int = 1) -> None:
        """Answer ``status`` (a problem JSON, not forwarded) to the next ``times``
        requests of ``method`` whose path (with query) matches the regex ``path``."""
        with self._lock:
            self._faults.append(_Fault(method.upper(), re.compile(path), times, status))

    def rewrite_next(self, method: str, path: str, rewrite: Rewrite, *, times: int = 1) -> None:
        """Forward the next ``times`` matching requests, and answer the service's
        status with ``rewrite(its JSON body)`` in place of its body."""
        with self._lock:
            self._faults.append(_Fault(method.upper(), re.compile(path), times, rewrite=rewrite))

    def lose_answer_next(self, method: str, path: str, *, status: int = 500) -> None:
        """Forward the next matching request (the service acts on it), then answer
        ``status`` in place of the service's answer: an answer lost on the way back."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), re.compile(path), 1, status=status, forward=True)
            )

    def clear_faults(self) -> None:
        """Forget the faults not yet met (so a test's leave none to the next)."""
        with self._lock:
            self._faults.clear()

    def faulted(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.faulted]

    def start(self) -> FaultyProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self._client = httpx.Client(base_url=self.upstream.rstrip("/"), timeout=60)
        self._server = loopback_http.serve_in_thread(Handler, "faulty-proxy")
        self.url = loopback_http.url_of(self._server)
        return self

    def stop(self) -> None:
        loopback_http.stop(self._server)
        self._server = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
            return None

    def _note(self, method: str, path: str, status: int, faulted: bool) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status, faulted))


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultyProxy

    def _handle(self) -> None:
        owner, method, path = self.owner, self.command, self.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = owner._take_fault(method, path)
        if fault is not None and fault.rewrite is None and not fault.forward:
            self._answer_fault(fault, method, path)
            return
        assert owner._client is not None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        try:
            response = owner._client.request(method, path, content=body, headers=headers)
        except httpx.TransportError as error:
            owner._note(method, path, 502, False)
            self._answer(502, {"content-type": "text/plain"}, f"upstream: {error}")
            return
        if fault is not None and fault.forward:
            self._answer_fault(fault, method, path)
            return
        content: str | bytes = response.content
        if fault is not None and fault.rewrite is not None:
            content = json.dumps(fault.rewrite(response.json()))
        owner._note(method, path, response.status_code, fault is not None)
        kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS}
        self._answer(response.status_code, kept, content)

    def _answer_fault(self, fault: _Fault, method: str, path: str) -> None:
        problem = {
            "type": "about:blank",
            "title": "Injected fault",
            "status": fault.status,
            "detail": f"the proxy answered {fault.status} in place of the service",
            "code": "injected_fault",
        }
        self.owner._note(method, path, fault.status, True)
        self._answer(fault.status, {"content-type": "application/json"}, json.dumps(problem))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _answer(self, status: int, headers: dict[str, str], content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass
