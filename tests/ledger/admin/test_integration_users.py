"""Admin API: integration users, the credentials a till signs in with."""

from __future__ import annotations

import hashlib
import re

import httpx
from sqlalchemy import create_engine, select

from api.core.config import Settings
from api.credentials.models import IntegrationUser
from harness.factories import Merchant
from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import created, new_account, ok, problem

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def users_path(account_id: int) -> str:
    return f"/admin/accounts/{account_id}/integration-users"


def stored_hash(settings: Settings, user_id: int) -> str:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            value = connection.scalar(
                select(IntegrationUser.password_hash).where(IntegrationUser.id == user_id)
            )
    finally:
        engine.dispose()
    assert isinstance(value, str)
    return value


def test_password_is_shown_in_the_create_response_only(
    admin: httpx.Client, settings: Settings
) -> None:
    account_id = new_account(admin)["id"]
    user = created(admin.post(users_path(account_id), json={"label": "Polaris"}))
    password = user["password"]
    assert user["account_id"] == account_id
    assert user["label"] == "Polaris"
    assert user["is_active"] is True
    assert user["revoked_at"] is None
    assert str(account_id) in user["username"]

    # 24 random bytes, URL-safe base64: 32 characters, 192 bits.
    assert len(password) == 32
    assert URLSAFE.match(password)

    one = admin.get(f"/admin/integration-users/{user['id']}")
    listed = admin.get(users_path(account_id))
    without_password = {k: v for k, v in user.items() if k != "password"}
    assert ok(one) == without_password
    assert ok(listed) == [without_password]
    for response in (one, listed):
        assert "password" not in response.text
        assert password not in response.text

    # The database holds a SHA-256 digest (design.md: random secrets of 128+ bits,
    # stored as SHA-256 digests), never the password.
    hashed = stored_hash(settings, user["id"])
    assert hashed == "sha256$" + hashlib.sha256(password.encode()).hexdigest()
    assert password not in hashed


def test_every_user_gets_its_own_random_credentials(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    users = [created(admin.post(users_path(account_id), json={})) for _ in range(5)]
    assert len({u["username"] for u in users}) == 5
    assert len({u["password"] for u in users}) == 5
    assert all(u["label"] == "" for u in users)
    assert [u["id"] for u in ok(admin.get(users_path(account_id)))] == [u["id"] for u in users]


def test_invalid_integration_user_is_refused_and_not_saved(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    for body in ({"label": "x" * 201}, {"label": 12}, [1]):
        problem(admin.post(users_path(account_id), json=body), 422, "invalid_request")
    assert ok(admin.get(users_path(account_id))) == []


def test_revoke_is_idempotent(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    user = created(admin.post(users_path(account_id), json={"label": "Polaris"}))

    revoked = ok(admin.post(f"/admin/integration-users/{user['id']}/revoke"))
    assert revoked["is_active"] is False
    assert revoked["revoked_at"] is not None
    assert "password" not in revoked

    again = ok(admin.post(f"/admin/integration-users/{user['id']}/revoke"))
    assert again == revoked  # the first revocation time is kept
    assert ok(admin.get(f"/admin/integration-users/{user['id']}")) == revoked

    problem(admin.get("/admin/integration-users/424242"), 404, "integration_user_not_found")
    problem(admin.post("/admin/integration-users/424242/revoke"), 404, "integration_user_not_found")


def test_revoked_user_is_refused_by_the_till_api(
    ledger: LedgerServer, admin: httpx.Client, merchant: Merchant
) -> None:
    code = merchant.sold_code(2000)
    assert merchant.balance(code).status_code == 200
    (user,) = ok(admin.get(users_path(merchant.account_id)))

    ok(admin.post(f"/admin/integration-users/{user['id']}/revoke"))

    for response in (merchant.balance(code), merchant.sell(1000), merchant.redeem(code, 100)):
        problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Basic")

    # A new user for the same account works; the revoked one stays refused.
    replacement = created(admin.post(users_path(merchant.account_id), json={"label": "Polaris"}))
    assert replacement["username"] != merchant.username
    with httpx.Client(
        base_url=ledger.url, auth=(replacement["username"], replacement["password"]), timeout=30
    ) as till:
        balance = till.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store})
        assert ok(balance)["balance"] == 2000
    problem(merchant.balance(code), 401, "unauthorized")

    listed = ok(admin.get(users_path(merchant.account_id)))
    assert [(u["id"], u["is_active"]) for u in listed] == [
        (user["id"], False),
        (replacement["id"], True),
    ]
    # Nothing moved while the revoked credential was refused.
    assert merchant.ledger_of(code)["balance"] == 2000
