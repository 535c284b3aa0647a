"""Authentication, what a credential can see, and the order the checks run in:
credential, throttle (429), the request's shape (422), store (403), voucher (404)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import httpx

from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant
from tests.ledger.till.contract import assert_ledger, created, ok, problem, unknown_code

REALM = 'Basic realm="toggle"'

Call = Callable[[httpx.Client], httpx.Response]


def _till_calls(merchant: Merchant, code: str, transaction_id: str) -> dict[str, Call]:
    """One valid call to each till endpoint, sent with whatever client is given."""
    store = merchant.store

    def body(**fields: object) -> dict[str, object]:
        return {"store_id": store, "reference": f"auth-{uuid.uuid4().hex[:8]}", **fields}

    return {
        "balance": lambda c: c.get(f"/v1/vouchers/{code}", params={"store_id": store}),
        "sell": lambda c: c.post(
            "/v1/vouchers", json=body(product_id=merchant.product_id, amount=100)
        ),
        "redeem": lambda c: c.post(f"/v1/vouchers/{code}/redeem", json=body(amount=100)),
        "load": lambda c: c.post(f"/v1/vouchers/{code}/load", json=body(amount=100)),
        "reverse": lambda c: c.post(
            f"/v1/vouchers/{code}/reverse", json=body(transaction_id=transaction_id)
        ),
    }


def _unauthorized(response: httpx.Response) -> None:
    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == REALM


def _integration_user_id(merchant: Merchant, username: str) -> int:
    users = merchant.admin.get(f"/admin/accounts/{merchant.account_id}/integration-users")
    assert users.status_code == 200, users.text
    return next(u["id"] for u in users.json() if u["username"] == username)


def test_missing_or_wrong_credentials_get_401(
    merchant: Merchant, other: Merchant, anonymous: httpx.Client
) -> None:
    sale = created(merchant.sell(5000))
    code = sale["code"]
    calls = _till_calls(merchant, code, sale["transaction_id"])
    url = str(merchant.till.base_url)

    def basic(raw: bytes) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    wrong_clients = {
        "none": httpx.Client(base_url=url),
        "wrong password": httpx.Client(base_url=url, auth=(merchant.username, "wrong")),
        "empty password": httpx.Client(base_url=url, auth=(merchant.username, "")),
        "unknown user": httpx.Client(base_url=url, auth=("nobody", merchant.password)),
        "another user's password": httpx.Client(
            base_url=url, auth=(merchant.username, other.password)
        ),
        "bearer": httpx.Client(base_url=url, headers={"Authorization": "Bearer abc"}),
        "admin token": httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ),
        "not base64": httpx.Client(base_url=url, headers={"Authorization": "Basic !!!"}),
        "no colon": httpx.Client(base_url=url, headers=basic(merchant.username.encode())),
        "not UTF-8": httpx.Client(base_url=url, headers=basic(b"\xff\xfe:\xff")),
        "basic only": httpx.Client(base_url=url, headers={"Authorization": "Basic"}),
    }
    try:
        for client in wrong_clients.values():
            for call in calls.values():
                _unauthorized(call(client))
    finally:
        for client in wrong_clients.values():
            client.close()
    assert_ledger(merchant, code, balance=5000, kinds=["sale"])
    # The real credential still works after all that (401s are not look-up failures).
    ok(merchant.balance(code))

    # Only the till API is closed: its description and docs are public.
    document = anonymous.get("/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert {"get"} <= paths["/v1/vouchers/{code}"].keys()
    assert {"post"} <= paths["/v1/vouchers"].keys()
    for action in ("redeem", "load", "reverse"):
        assert "post" in paths[f"/v1/vouchers/{{code}}/{action}"]
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")


def test_revoked_credential_gets_401(merchant: Merchant) -> None:
    sale = created(merchant.sell(5000))
    issued = merchant.admin.post(
        f"/admin/accounts/{merchant.account_id}/integration-users", json={"label": "Second till"}
    )
    assert issued.status_code == 201, issued.text
    user = issued.json()
    with httpx.Client(
        base_url=str(merchant.till.base_url), auth=(user["username"], user["password"])
    ) as second:
        calls = _till_calls(merchant, sale["code"], sale["transaction_id"])
        ok(calls["balance"](second))  # works, and is now remembered as verified
        revoked = merchant.admin.post(f"/admin/integration-users/{user['id']}/revoke")
        assert revoked.status_code == 200, revoked.text
        for call in calls.values():
            _unauthorized(call(second))
    # Revoking one credential leaves the account's others alone.
    ok(merchant.balance(sale["code"]))
    # And the first credential, revoked too, is refused.
    revoked = merchant.admin.post(
        f"/admin/integration-users/{_integration_user_id(merchant, merchant.username)}/revoke"
    )
    assert revoked.status_code == 200, revoked.text
    _unauthorized(merchant.balance(sale["code"]))


def test_a_credential_sees_only_its_own_account(merchant: Merchant, other: Merchant) -> None:
    ours = created(merchant.sell(5000))
    theirs = created(other.sell(4000))

    # Their stores are unknown to us, whatever the call.
    their_store = other.store
    problem(merchant.balance(ours["code"], store_id=their_store), 403, "unknown_store")
    problem(merchant.sell(100, store_id=their_store), 403, "unknown_store")
    problem(merchant.redeem(ours["code"], 100, store_id=their_store), 403, "unknown_store")
    problem(merchant.load(ours["code"], 100, store_id=their_store), 403, "unknown_store")
    problem(
        merchant.reverse(ours["code"], ours["transaction_id"], store_id=their_store),
        403,
        "unknown_store",
    )

    # Their voucher is not found by us, exactly like a code nobody has.
    not_found = problem(merchant.balance(unknown_code()), 404, "voucher_not_found")
    assert problem(merchant.balance(theirs["code"]), 404, "voucher_not_found") == not_found
    assert problem(merchant.redeem(theirs["code"], 100), 404, "voucher_not_found") == not_found
    assert problem(merchant.load(theirs["code"], 100), 404, "voucher_not_found") == not_found
    assert (
        problem(
            merchant.reverse(theirs["code"], theirs["transaction_id"]), 404, "voucher_not_found"
        )
        == not_found
    )
    # ... and their product is not ours to sell.
    problem(merchant.sell(100, product_id=other.product_id), 404, "product_not_found")

    assert_ledger(other, theirs["code"], balance=4000, kinds=["sale"])
    assert_ledger(merchant, ours["code"], balance=5000, kinds=["sale"])
    assert ok(other.balance(theirs["code"]))["balance"] == 4000


def test_credential_is_checked_before_anything_else(
    merchant: Merchant, anonymous: httpx.Client
) -> None:
    code = merchant.sold_code(1000)
    bad_json = b'{"amount": '
    json_type = {"Content-Type": "application/json"}
    for path in ("/v1/vouchers", f"/v1/vouchers/{code}/redeem", "/v1/vouchers/123/load"):
        _unauthorized(anonymous.post(path, content=bad_json, headers=json_type))
        _unauthorized(
            merchant.till.post(
                path, content=bad_json, headers=json_type, auth=(merchant.username, "nope")
            )
        )
    # Bad shape, unknown store and unknown voucher all at once: still 401.
    _unauthorized(
        anonymous.post(
            "/v1/vouchers/123/redeem", json={"store_id": "NOPE", "amount": 0, "reference": ""}
        )
    )
    _unauthorized(anonymous.get("/v1/vouchers/123"))  # no store_id either
    _unauthorized(anonymous.get("/v1/vouchers/123", params={"store_id": "NOPE"}))


def test_shape_then_store_then_voucher(merchant: Merchant, other: Merchant) -> None:
    code = merchant.sold_code(1000)
    problem(
        merchant.till.post(
            f"/v1/vouchers/{code}/redeem",
            content=b"{oops",
            headers={"Content-Type": "application/json"},
        ),
        422,
        "invalid_request",
    )
    # Bad shape + unknown store (+ unknown voucher): 422.
    bad_shape = {"store_id": "NOPE", "amount": 0, "reference": "r"}
    for path in ("/v1/vouchers/123/redeem", "/v1/vouchers/123/load", f"/v1/vouchers/{code}/redeem"):
        problem(merchant.till.post(path, json=bad_shape), 422, "invalid_request")
    problem(
        merchant.till.post("/v1/vouchers", json={"store_id": "NOPE", "amount": 10.0}),
        422,
        "invalid_request",
    )
    problem(merchant.till.get("/v1/vouchers/123"), 422, "invalid_request")  # store_id missing
    problem(
        merchant.till.post("/v1/vouchers/123/reverse", json={"store_id": "NOPE", "reference": "r"}),
        422,
        "invalid_request",
    )

    # Good shape, unknown store, bad voucher: 403.
    theirs = other.sold_code(1000)
    for bad_code in ("123", unknown_code(), theirs):
        problem(merchant.balance(bad_code, store_id="NOPE"), 403, "unknown_store")
        problem(merchant.redeem(bad_code, 100, store_id="NOPE"), 403, "unknown_store")
        problem(merchant.load(bad_code, 100, store_id=other.store), 403, "unknown_store")
        problem(
            merchant.reverse(bad_code, str(uuid.uuid4()), store_id="NOPE"), 403, "unknown_store"
        )
    problem(merchant.sell(100, store_id="NOPE", product_id=999_999), 403, "unknown_store")
    # A good store and a bad code: now the voucher answers.
    problem(merchant.balance("123"), 404, "voucher_not_found")
    assert_ledger(merchant, code, balance=1000, kinds=["sale"])
