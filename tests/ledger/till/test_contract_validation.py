"""422 invalid_request: a malformed request (wrong types, an amount that is not an
integer from 1 to 100,000,000, a missing field, bad JSON). No input ever yields a 5xx."""

from __future__ import annotations

from typing import Any

import httpx

from harness.factories import Merchant
from tests.ledger.till.contract import assert_ledger, created, problem

MISSING = object()
BAD_JSON = [b"", b"{", b'{"store_id": "S", "amount": 10,', b"not json", b"\xff\xfe"]
NOT_AN_OBJECT = [b"[]", b'"redeem"', b"null", b"42"]
BAD_AMOUNTS: list[Any] = [
    0,
    -1,
    100_000_001,
    10**30,
    10.0,
    10.5,
    1e3,
    "10",
    True,
    None,
    [10],
    {"value": 10},
]
BAD_REFERENCES: list[Any] = ["", "r" * 65, "line\nbreak", "tab\there", 12345, None]


def _send_raw(merchant: Merchant, path: str, content: bytes) -> httpx.Response:
    return merchant.till.post(path, content=content, headers={"Content-Type": "application/json"})


def _invalid(response: httpx.Response) -> dict[str, Any]:
    return problem(response, 422, "invalid_request")


def _variant(base: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    body = dict(base)
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    return body


def test_redeem_rejects_malformed_requests(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    path = f"/v1/vouchers/{code}/redeem"
    base = {"store_id": merchant.store, "amount": 100, "reference": "r-1", "allow_partial": False}

    for content in BAD_JSON + NOT_AN_OBJECT:
        _invalid(_send_raw(merchant, path, content))
    bodies: list[dict[str, Any]] = []
    for field in ("store_id", "amount", "reference"):
        bodies.append(_variant(base, field, MISSING))
    bodies += [_variant(base, "amount", amount) for amount in BAD_AMOUNTS]
    bodies += [_variant(base, "reference", ref) for ref in BAD_REFERENCES]
    bodies += [_variant(base, "allow_partial", v) for v in ("yes", "true", 1, 0, None, [])]
    bodies += [_variant(base, "store_id", v) for v in (123, None, [merchant.store], "S\u0000")]
    for body in bodies:
        problem_body = _invalid(merchant.till.post(path, json=body))
        assert isinstance(problem_body.get("errors"), list), (body, problem_body)

    assert_ledger(merchant, code, balance=5000, kinds=["sale"])
    # The edges of what is allowed are allowed.
    problem(merchant.redeem(code, 100_000_000, reference="x" * 64), 409, "insufficient_funds")
    created(merchant.redeem(code, 1, reference="~ printable !"))
    created(merchant.redeem(code, 1, allow_partial=True))


def test_sell_load_and_reverse_reject_malformed_requests(merchant: Merchant) -> None:
    base = {
        "store_id": merchant.store,
        "product_id": merchant.product_id,
        "amount": 100,
        "reference": "s-1",
    }
    for content in BAD_JSON + NOT_AN_OBJECT:
        _invalid(_send_raw(merchant, "/v1/vouchers", content))
    bodies = [_variant(base, field, MISSING) for field in base]
    bodies += [_variant(base, "amount", amount) for amount in BAD_AMOUNTS]
    bodies += [_variant(base, "reference", ref) for ref in BAD_REFERENCES]
    bodies += [
        _variant(base, "product_id", v)
        for v in (
            str(merchant.product_id),
            float(merchant.product_id),
            True,
            None,
            0,
            -1,
            2**31,
            10**30,
        )
    ]
    for body in bodies:
        _invalid(merchant.till.post("/v1/vouchers", json=body))
    # Nothing was sold: the ledger holds no voucher at all.
    report = merchant.admin.get("/admin/reconciliation").json()
    assert report["vouchers_checked"] == 0
    sale = created(merchant.till.post("/v1/vouchers", json={**base, "amount": 5000}))
    code = sale["code"]
    load_path = f"/v1/vouchers/{code}/load"
    load_base = {"store_id": merchant.store, "amount": 100, "reference": "l-1"}
    for content in BAD_JSON[:2] + NOT_AN_OBJECT[:1]:
        _invalid(_send_raw(merchant, load_path, content))
    bodies = [_variant(load_base, field, MISSING) for field in load_base]
    bodies += [_variant(load_base, "amount", amount) for amount in BAD_AMOUNTS]
    bodies += [_variant(load_base, "reference", ref) for ref in BAD_REFERENCES[:3]]
    for body in bodies:
        _invalid(merchant.till.post(load_path, json=body))

    reverse_path = f"/v1/vouchers/{code}/reverse"
    reverse_base = {
        "store_id": merchant.store,
        "transaction_id": sale["transaction_id"],
        "reference": "v-1",
    }
    for content in BAD_JSON[:2] + NOT_AN_OBJECT[:1]:
        _invalid(_send_raw(merchant, reverse_path, content))
    bodies = [_variant(reverse_base, field, MISSING) for field in reverse_base]
    bodies += [
        _variant(reverse_base, "transaction_id", v) for v in ("", 123, None, "t" * 65, "\u0000")
    ]
    bodies += [_variant(reverse_base, "reference", ref) for ref in BAD_REFERENCES[:3]]
    for body in bodies:
        _invalid(merchant.till.post(reverse_path, json=body))

    assert_ledger(merchant, code, balance=5000, kinds=["sale"])


def test_balance_check_needs_a_store_id_and_odd_input_never_gets_a_5xx(
    merchant: Merchant,
) -> None:
    code = merchant.sold_code(500)
    _invalid(merchant.till.get(f"/v1/vouchers/{code}"))
    _invalid(merchant.till.get(f"/v1/vouchers/{code}", params={"other": merchant.store}))
    _invalid(merchant.till.get(f"/v1/vouchers/{code}", params={"store_id": "\u0000"}))

    # Things a broken till might send: each gets a 4xx, never a 5xx.
    odd_codes = ["%00", "%F0%9F%98%80", "9" * 4000, "%20%20", "-", "..%2F..%2Fadmin"]
    for odd in odd_codes:
        response = merchant.till.get(f"/v1/vouchers/{odd}", params={"store_id": merchant.store})
        assert 400 <= response.status_code < 500, (odd, response.status_code, response.text)
    odd_bodies: list[Any] = [
        {"store_id": merchant.store, "amount": 1, "reference": "\u0000"},
        {"store_id": "\u0000" * 10, "amount": 1, "reference": "r"},
        {"store_id": "S" * 10_000, "amount": 1, "reference": "r"},
        {"store_id": merchant.store, "amount": -(10**100), "reference": "r"},
        {"store_id": merchant.store, "amount": 1, "reference": "é"},
    ]
    for body in odd_bodies:
        response = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = _send_raw(merchant, f"/v1/vouchers/{code}/load", nested)
    assert 400 <= response.status_code < 500, response.text
    assert_ledger(merchant, code, balance=500, kinds=["sale"])
