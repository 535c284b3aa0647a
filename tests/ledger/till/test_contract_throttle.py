"""The throttle: after 20 answers of 404 voucher_not_found on one credential within the
window (malformed codes counted, nothing else), every voucher call on that credential
gets 429 too_many_attempts with Retry-After, until the window passes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.till.contract import (
    assert_ledger,
    bad_check_digit,
    created,
    ok,
    problem,
    unknown_code,
    with_check_digit,
)

LIMIT = 20  # the contract's default
QUICK_WINDOW_SECONDS = 3


def _throttled(response: httpx.Response, window: int) -> None:
    problem(response, 429, "too_many_attempts")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window


def _failed_lookups(merchant: Merchant, code: str, count: int) -> None:
    """`count` answers of 404 voucher_not_found, of every kind a till could cause."""
    candidates = [
        unknown_code(),
        code[:-1],  # too short
        code + "1",  # too long
        bad_check_digit(code),
        with_check_digit("12345678" + code[8:18]),  # wrong range
        "hello",
    ]
    calls = [
        lambda c: merchant.balance(c),
        lambda c: merchant.redeem(c, 100),
        lambda c: merchant.load(c, 100),
        lambda c: merchant.reverse(c, str(uuid.uuid4())),
    ]
    for n in range(count):
        response = calls[n % len(calls)](candidates[n % len(candidates)])
        problem(response, 404, "voucher_not_found")


def test_twenty_failed_lookups_close_every_voucher_call(
    merchant: Merchant, other: Merchant, anonymous: httpx.Client
) -> None:
    sale = created(merchant.sell(5000))
    code = sale["code"]
    theirs = other.sold_code(1000)
    issued = merchant.admin.post(
        f"/admin/accounts/{merchant.account_id}/integration-users", json={"label": "Till 2"}
    )
    assert issued.status_code == 201, issued.text
    second_user = issued.json()

    # Other errors do not count, however many.
    for _ in range(LIMIT + 1):
        problem(merchant.balance("123", store_id="NOPE"), 403, "unknown_store")
        problem(merchant.redeem(code, 999_999), 409, "insufficient_funds")
        problem(merchant.reverse(code, str(uuid.uuid4())), 404, "transaction_not_found")
        problem(merchant.sell(100, product_id=999_999), 404, "product_not_found")
        problem(merchant.redeem(code, 0), 422, "invalid_request")
        problem(
            anonymous.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}),
            401,
            "unauthorized",
        )
    ok(merchant.balance(code))

    # 19 failed look-ups (another account's voucher among them): still open.
    _failed_lookups(merchant, code, LIMIT - 2)
    problem(merchant.balance(theirs), 404, "voucher_not_found")
    assert ok(merchant.balance(code))["balance"] == 5000
    # The 20th is answered; then the credential is closed to voucher calls of any kind.
    problem(merchant.balance(unknown_code()), 404, "voucher_not_found")

    window = 60
    _throttled(merchant.balance(code), window)
    _throttled(merchant.sell(100), window)
    _throttled(merchant.redeem(code, 100), window)
    _throttled(merchant.load(code, 100), window)
    _throttled(merchant.reverse(code, sale["transaction_id"]), window)
    _throttled(merchant.balance(unknown_code()), window)
    _throttled(merchant.balance(code, store_id=merchant.store_ids[1]), window)
    # The throttle answers before the shape and the store are looked at...
    _throttled(
        merchant.till.post(
            f"/v1/vouchers/{code}/redeem",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        ),
        window,
    )
    _throttled(merchant.till.post("/v1/vouchers", json={"amount": 1.5}), window)
    _throttled(merchant.balance(code, store_id="NOPE"), window)
    # ... but after the credential: a wrong password is still 401.
    response = merchant.till.get(
        f"/v1/vouchers/{code}",
        params={"store_id": merchant.store},
        auth=(merchant.username, "wrong"),
    )
    problem(response, 401, "unauthorized")

    # Other credentials, of this account and of others, are unaffected.
    with httpx.Client(
        base_url=str(merchant.till.base_url),
        auth=(second_user["username"], second_user["password"]),
    ) as second:
        assert (
            ok(second.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}))["balance"]
            == 5000
        )
    assert ok(other.balance(theirs))["balance"] == 1000
    created(other.redeem(theirs, 100))

    # The refused calls moved nothing.
    assert_ledger(merchant, code, balance=5000, kinds=["sale"])


@pytest.fixture
def quick_ledger(database_url: str) -> Iterator[LedgerServer]:
    """A ledger whose throttle window is short enough to wait out in a test."""
    settings = make_settings(database_url, throttle_window_seconds=QUICK_WINDOW_SECONDS)
    with serve_ledger(settings) as server:
        yield server


@pytest.fixture
def quick_merchant(quick_ledger: LedgerServer) -> Iterator[Merchant]:
    with httpx.Client(
        base_url=quick_ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as admin:
        merchant = make_merchant(quick_ledger, admin)
        try:
            yield merchant
        finally:
            merchant.close()


def test_calls_work_again_once_the_window_passes(quick_merchant: Merchant) -> None:
    merchant = quick_merchant
    code = merchant.sold_code(5000)
    # Fail until throttled: 20 failures normally; more only if this machine is so slow
    # that early ones left the short window already.
    response = merchant.balance(unknown_code())
    failures = 0
    while response.status_code == 404:
        failures += 1
        assert failures <= 3 * LIMIT, "the throttle never closed"
        response = merchant.balance(unknown_code())
    assert failures >= LIMIT
    _throttled(response, QUICK_WINDOW_SECONDS)

    # A throttled write leaves no record: its reference is free after the window.
    body = {"store_id": merchant.store, "amount": 1200, "reference": "after-429"}
    throttled = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    _throttled(throttled, QUICK_WINDOW_SECONDS)

    time.sleep(int(throttled.headers["Retry-After"]) + 0.2)
    deadline = time.monotonic() + QUICK_WINDOW_SECONDS + 2
    while (response := merchant.balance(code)).status_code == 429:
        assert time.monotonic() < deadline, "still throttled after the window passed"
        time.sleep(0.2)
    assert ok(response)["balance"] == 5000

    movement = created(merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body))
    assert movement["balance"] == 3800
    entries = assert_ledger(merchant, code, balance=3800, kinds=["sale", "redemption"])
    assert entries[1]["reference"] == "after-429"
