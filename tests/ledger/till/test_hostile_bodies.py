"""Big bodies: the credential is checked before the body is read, and a body over
64 KB gets 413 request_too_large without the rest of it being read (till-api.md,
Conventions). Sent over raw sockets, so that a request can declare a body it never
finishes sending: an answer that comes at all proves the ledger did not wait for it."""

from __future__ import annotations

import base64
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.factories import Merchant
from tests.ledger.till.contract import created, problem

LIMIT = 64 * 1024
PROMPT_SECONDS = 10  # the answer comes long before this; without the gate it never does


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def _send(
    base_url: str,
    path: str,
    headers: dict[str, str],
    parts: list[bytes],
) -> RawResponse:
    """Send a POST head with ``headers`` and then ``parts`` of body (and nothing more),
    and read the answer."""
    url = urlsplit(base_url)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=PROMPT_SECONDS) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode("latin-1"))
        for part in parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the ledger answered and closed: it did not want the rest
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without an answer: {raw!r}"
            raw += chunk
        head_bytes, _, rest = raw.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        answer = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(answer.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed mid-answer"
            rest += chunk
    return RawResponse(status, answer, rest[:length], time.monotonic() - started)


def _problem(response: RawResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status, response
    assert response.status == status, (response.status, response.body)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert response.seconds < PROMPT_SECONDS
    return dict(body)


def _auth(merchant: Merchant) -> str:
    token = base64.b64encode(f"{merchant.username}:{merchant.password}".encode()).decode()
    return f"Basic {token}"


def _chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_a_declared_big_body_without_a_credential_gets_401_unread(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    for auth in ({}, {"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="}):
        response = _send(
            merchant.till.base_url.__str__(),
            f"/v1/vouchers/{code}/redeem",
            {"Content-Type": "application/json", "Content-Length": str(10 * 1024 * 1024), **auth},
            [b'{"store_id": "' + b"x" * 1000],
        )
        _problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == 'Basic realm="toggle"'


def test_a_chunked_body_without_a_credential_gets_401_unread(merchant: Merchant) -> None:
    response = _send(
        str(merchant.till.base_url),
        "/v1/vouchers",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        [_chunked(b" " * 16384)],
    )
    _problem(response, 401, "unauthorized")


def test_a_declared_big_body_with_a_credential_gets_413_unread(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    response = _send(
        str(merchant.till.base_url),
        f"/v1/vouchers/{code}/redeem",
        {
            "Content-Type": "application/json",
            "Content-Length": str(LIMIT + 1),
            "Authorization": _auth(merchant),
        },
        [b"{"],
    )
    _problem(response, 413, "request_too_large")


def test_a_chunked_body_over_the_limit_gets_413_without_reading_the_rest(
    merchant: Merchant,
) -> None:
    # 80 KB sent in 16 KB chunks, and then nothing: no end chunk ever comes.
    response = _send(
        str(merchant.till.base_url),
        "/v1/vouchers",
        {
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Authorization": _auth(merchant),
        },
        [_chunked(b" " * 16384) for _ in range(5)],
    )
    _problem(response, 413, "request_too_large")


def test_bodies_up_to_the_limit_work_and_the_whole_answer_order_holds(
    merchant: Merchant,
) -> None:
    code = merchant.sold_code(1000)
    body = {"store_id": merchant.store, "amount": 100, "reference": "big-1"}
    text = json.dumps(body).encode()
    padded = text[:-1] + b" " * (LIMIT - len(text)) + b"}"
    assert len(padded) == LIMIT
    path = f"/v1/vouchers/{code}/redeem"
    headers = {"Content-Type": "application/json"}
    created(merchant.till.post(path, content=padded, headers=headers))
    # One byte over, sent whole: 413, and nothing moved.
    over = padded[:-1] + b" }"
    problem(merchant.till.post(path, content=over, headers=headers), 413, "request_too_large")
    # Chunked and small: read and answered as usual.
    chunks = iter([text[:10], text[10:]])
    with httpx.Client(base_url=str(merchant.till.base_url), auth=merchant.till.auth) as client:
        replay = client.post(path, content=chunks, headers=headers)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    # Without a credential, the credential answers first, whatever the size.
    with httpx.Client(base_url=str(merchant.till.base_url)) as anonymous:
        problem(anonymous.post(path, content=over, headers=headers), 401, "unauthorized")
    assert merchant.ledger_of(code)["balance"] == 900
