"""Admin API: bearer authentication, accounts, sites and products."""

from __future__ import annotations

from typing import Any

import httpx

from harness.constants import ADMIN_TOKEN
from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import created, new_account, ok, problem, sites_of

UNKNOWN_ACCOUNT = 987654

ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/accounts", None),
    ("POST", "/admin/accounts", {"name": "Sneaky"}),
    ("GET", "/admin/accounts/1", None),
    ("POST", "/admin/accounts/1/sites", {"name": "S", "address": "A", "reference": "r"}),
    ("PUT", "/admin/accounts/1/store-ids", {"assignments": [{"site_id": 1, "store_id": "S1"}]}),
    ("POST", "/admin/accounts/1/integration-users", {"label": "Polaris"}),
    ("POST", "/admin/integration-users/1/revoke", None),
    ("POST", "/admin/accounts/1/polaris/offboard", {"clear_store_ids": True}),
    ("GET", "/admin/offboardings/1", None),
    ("GET", "/admin/vouchers/6301190000000000000/ledger", None),
    ("GET", "/admin/reconciliation", None),
]


STRANGERS = {
    "missing": {},
    "wrong": {"Authorization": "Bearer wrong-token"},
    "longer": {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    "basic-scheme": {"Authorization": f"Basic {ADMIN_TOKEN}"},
    "no-scheme": {"Authorization": ADMIN_TOKEN},
}


def test_admin_api_needs_the_bearer_token(ledger: LedgerServer, admin: httpx.Client) -> None:
    for name, headers in STRANGERS.items():
        with httpx.Client(base_url=ledger.url, headers=headers, timeout=30) as stranger:
            for method, path, body in ADMIN_CALLS:
                response = stranger.request(method, path, json=body)
                problem(response, 401, "unauthorized")
                assert response.headers["www-authenticate"] == "Bearer", (name, method, path)
    # Nothing was created by the refused calls.
    assert ok(admin.get("/admin/accounts")) == []


def test_create_read_and_list_accounts(admin: httpx.Client) -> None:
    account = new_account(admin, name="  The Crown Group  ")
    assert account["name"] == "The Crown Group"
    assert account["card_range"] == "63011900"
    assert account["currency"] == "GBP"
    assert account["balance_cap"] is None
    assert account["created_at"]
    assert ok(admin.get(f"/admin/accounts/{account['id']}")) == account

    own = new_account(admin, card_range="63012000", currency="EUR", balance_cap=25000)
    assert (own["card_range"], own["currency"], own["balance_cap"]) == ("63012000", "EUR", 25000)
    assert own["id"] != account["id"]
    assert ok(admin.get(f"/admin/accounts/{own['id']}")) == own

    assert ok(admin.get("/admin/accounts")) == [account, own]


INVALID_ACCOUNTS: list[dict[str, Any]] = [
    {},
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 201},
    {"name": "M", "card_range": "6301190"},
    {"name": "M", "card_range": "630119000"},
    {"name": "M", "card_range": "6301190a"},
    {"name": "M", "card_range": 63011900},
    {"name": "M", "currency": "gbp"},
    {"name": "M", "currency": "GB"},
    {"name": "M", "currency": "GBPX"},
    {"name": "M", "balance_cap": -1},
    {"name": "M", "balance_cap": 0},
    {"name": "M", "balance_cap": 12.5},
    {"name": "M", "balance_cap": "lots"},
]


def test_invalid_account_is_refused_and_not_saved(admin: httpx.Client) -> None:
    for body in INVALID_ACCOUNTS:
        refused = problem(admin.post("/admin/accounts", json=body), 422, "invalid_request")
        assert refused["errors"], (body, refused)
    unreadable = admin.post(
        "/admin/accounts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    problem(unreadable, 422, "invalid_request")
    assert ok(admin.get("/admin/accounts")) == []


ACCOUNT_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/accounts/{a}", None),
    ("GET", "/admin/accounts/{a}/sites", None),
    ("POST", "/admin/accounts/{a}/sites", {"name": "S", "address": "A", "reference": "r"}),
    ("GET", "/admin/accounts/{a}/products", None),
    ("POST", "/admin/accounts/{a}/products", {"name": "Gift voucher"}),
    ("GET", "/admin/accounts/{a}/integration-users", None),
    ("POST", "/admin/accounts/{a}/integration-users", {"label": "Polaris"}),
    ("PUT", "/admin/accounts/{a}/store-ids", {"assignments": [{"site_id": 1, "store_id": "S"}]}),
]


def test_unknown_account_is_not_found(admin: httpx.Client) -> None:
    new_account(admin)
    for method, path, body in ACCOUNT_CALLS:
        response = admin.request(method, path.format(a=UNKNOWN_ACCOUNT), json=body)
        assert str(UNKNOWN_ACCOUNT) in problem(response, 404, "account_not_found")["detail"]
    assert len(ok(admin.get("/admin/accounts"))) == 1


def test_sites_are_idempotent_by_reference(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    body = {"name": "The Crown", "address": "12 Dean Street", "reference": "crown"}
    first = created(admin.post(f"/admin/accounts/{account_id}/sites", json=body))
    assert first["account_id"] == account_id
    assert first["store_id"] is None
    assert {k: first[k] for k in body} == body

    again = admin.post(f"/admin/accounts/{account_id}/sites", json=body)
    assert again.status_code == 200, again.text
    assert again.json() == first

    # Surrounding whitespace is not a different site.
    padded = {k: f"  {v} " for k, v in body.items()}
    assert ok(admin.post(f"/admin/accounts/{account_id}/sites", json=padded)) == first

    assert sites_of(admin, account_id) == [first]

    # References are the merchant's own: another account may use the same one.
    other = new_account(admin)["id"]
    theirs = created(admin.post(f"/admin/accounts/{other}/sites", json=body))
    assert theirs["id"] != first["id"]
    assert sites_of(admin, other) == [theirs]
    assert sites_of(admin, account_id) == [first]


def test_same_reference_for_another_site_conflicts(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    body = {"name": "The Crown", "address": "12 Dean Street", "reference": "crown"}
    first = created(admin.post(f"/admin/accounts/{account_id}/sites", json=body))

    for change in ({"name": "The Anchor"}, {"address": "3 Harbourside"}):
        response = admin.post(f"/admin/accounts/{account_id}/sites", json={**body, **change})
        conflict = problem(response, 409, "site_reference_conflict")
        assert conflict["site_id"] == first["id"]
        assert "crown" in conflict["detail"]

    assert sites_of(admin, account_id) == [first]


INVALID_SITES: list[dict[str, Any]] = [
    {"address": "A", "reference": "r"},
    {"name": "S", "reference": "r"},
    {"name": "S", "address": "A"},
    {"name": " ", "address": "A", "reference": "r"},
    {"name": "S", "address": "A", "reference": "r" * 101},
    {"name": "S", "address": "A", "reference": 7},
]


def test_invalid_site_is_refused_and_not_saved(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    for body in INVALID_SITES:
        response = admin.post(f"/admin/accounts/{account_id}/sites", json=body)
        problem(response, 422, "invalid_request")
    assert sites_of(admin, account_id) == []


def test_products(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    plain = created(
        admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift voucher"})
    )
    assert plain["account_id"] == account_id
    assert plain["in_store"] is True
    assert plain["validity_days"] is None

    online = created(
        admin.post(
            f"/admin/accounts/{account_id}/products",
            json={"name": "E-gift", "in_store": False, "validity_days": 365},
        )
    )
    assert (online["in_store"], online["validity_days"]) == (False, 365)

    listed = ok(admin.get(f"/admin/accounts/{account_id}/products"))
    assert listed == [plain, online]

    other = new_account(admin)["id"]
    assert ok(admin.get(f"/admin/accounts/{other}/products")) == []


INVALID_PRODUCTS: list[dict[str, Any]] = [
    {},
    {"name": ""},
    {"name": "G", "validity_days": 0},
    {"name": "G", "validity_days": -30},
    {"name": "G", "validity_days": 36601},
    {"name": "G", "in_store": "perhaps"},
]


def test_invalid_product_is_refused_and_not_saved(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    for body in INVALID_PRODUCTS:
        response = admin.post(f"/admin/accounts/{account_id}/products", json=body)
        problem(response, 422, "invalid_request")
    assert ok(admin.get(f"/admin/accounts/{account_id}/products")) == []
