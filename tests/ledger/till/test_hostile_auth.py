"""Hostile Authorization headers: whatever a client puts in HTTP Basic, the answer is
401 unauthorized (never a 5xx, never a traceback in the log), on every till call and
on the 422 path, on both databases."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from harness.factories import Merchant
from tests.ledger.till.contract import created, problem

REALM = 'Basic realm="toggle"'


def _basic(raw: bytes) -> bytes:
    return b"Basic " + base64.b64encode(raw)


def _calls(merchant: Merchant, code: str, header: bytes) -> dict[str, httpx.Response]:
    """A balance check, a sale and a malformed sale (the 422 path), each sent with
    ``header`` as the raw Authorization header (bytes: httpx sends them as they are)."""
    url = str(merchant.till.base_url)
    with httpx.Client(base_url=url, headers={"Authorization": header}, timeout=30) as client:
        sale = {
            "store_id": merchant.store,
            "product_id": merchant.product_id,
            "amount": 100,
            "reference": "hostile-1",
        }
        return {
            "balance": client.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}),
            "sell": client.post("/v1/vouchers", json=sale),
            "redeem": client.post(
                f"/v1/vouchers/{code}/redeem",
                json={"store_id": merchant.store, "amount": 1, "reference": "hostile-2"},
            ),
            "malformed": client.post(
                "/v1/vouchers",
                content=b'{"store_id": ',
                headers={"content-type": "application/json"},
            ),
        }


def _all_unauthorized(
    responses: dict[str, httpx.Response], caplog: pytest.LogCaptureFixture
) -> None:
    for name, response in responses.items():
        problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == REALM, name
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"Basic \xc3\xa9", id="raw non-ASCII header"),
        pytest.param(b"Basic \xff\xfe", id="raw latin-1 bytes"),
        pytest.param(_basic(b"\xff\xfe:pw"), id="base64 of non-UTF-8"),
        pytest.param(_basic("é:pw".encode("latin-1")), id="base64 of latin-1"),
    ],
)
def test_basic_credentials_that_are_not_utf8_get_401(
    merchant: Merchant, header: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    code = created(merchant.sell(500))["code"]
    caplog.set_level(logging.INFO)
    _all_unauthorized(_calls(merchant, code, header), caplog)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"x\x00y:pw", id="NUL in username"),
        pytest.param(b"\x00:pw", id="username NUL only"),
        pytest.param(b"user:p\x00w", id="NUL in password"),
    ],
)
def test_basic_credentials_with_nul_get_401(
    merchant: Merchant, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    code = created(merchant.sell(500))["code"]
    caplog.set_level(logging.INFO)
    _all_unauthorized(_calls(merchant, code, _basic(raw)), caplog)
    # The real user's name with a NUL appended is no way in either.
    nul_password = merchant.username.encode() + b":" + merchant.password.encode() + b"\x00"
    _all_unauthorized(_calls(merchant, code, _basic(nul_password)), caplog)
    assert base64.b64encode(b"x\x00y:pw") == b"eAB5OnB3"
