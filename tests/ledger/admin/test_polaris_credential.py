"""One Polaris credential per account: the ledger refuses a second, leaves room for
exactly two while a rotation runs, and lets a live account onboard new sites under the
credential Polaris already has."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.ledger.admin.support import created, new_account, ok, problem

POLARIS = {"name": "Pat", "email": "pat@polaris.example", "mobile": "+447700900123"}


def users_path(account_id: int) -> str:
    return f"/admin/accounts/{account_id}/integration-users"


def active_polaris(admin: httpx.Client, account_id: int) -> list[dict[str, Any]]:
    return [
        u
        for u in ok(admin.get(users_path(account_id)))
        if u["purpose"] == "polaris" and u["is_active"]
    ]


def account_with_product(admin: httpx.Client) -> int:
    account_id = int(new_account(admin)["id"])
    created(admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift voucher"}))
    return account_id


def start(admin: httpx.Client, account_id: int, kind: str = "onboarding") -> dict[str, Any]:
    body = {"account_id": account_id, "polaris": POLARIS, "kind": kind}
    response = admin.post("/admin/onboardings", json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def deliver(admin: httpx.Client, onboarding: dict[str, Any]) -> dict[str, Any]:
    """Issue the onboarding's credential and record the email and text as sent."""
    path = f"/admin/onboardings/{onboarding['id']}"
    issued = created(admin.post(f"{path}/credential"))
    for stage in ("email_sent", "text_sent"):
        ok(admin.post(f"{path}/stages/{stage}", json={"api_user_id": issued["api_user_id"]}))
    return issued


def onboarded(admin: httpx.Client) -> tuple[int, dict[str, Any]]:
    """An account onboarded to verified; its Polaris credential."""
    account_id = account_with_product(admin)
    onboarding = start(admin, account_id)
    issued = deliver(admin, onboarding)
    path = f"/admin/onboardings/{onboarding['id']}"
    for stage in ("store_ids_saved", "verified"):
        ok(admin.post(f"{path}/stages/{stage}", json={}))
    return account_id, issued


def test_a_second_polaris_credential_is_refused_naming_the_active_one(
    admin: httpx.Client,
) -> None:
    account_id = new_account(admin)["id"]
    first = created(admin.post(users_path(account_id), json={"purpose": "polaris"}))
    assert first["purpose"] == "polaris" and first["replaces_id"] is None

    body = problem(
        admin.post(users_path(account_id), json={"purpose": "polaris", "label": "again"}),
        409,
        "polaris_credential_exists",
    )
    assert body["active_integration_user_ids"] == [first["id"]]
    assert f"integration user {first['id']} ({first['username']}" in body["detail"]
    assert [u["id"] for u in active_polaris(admin, account_id)] == [first["id"]]
    # Other integrations are not Polaris's: as many as the merchant needs.
    for _ in range(2):
        assert (
            created(admin.post(users_path(account_id), json={"label": "EPOS B"}))["purpose"]
            == "other"
        )


def test_parallel_issues_leave_exactly_one(admin: httpx.Client) -> None:
    account_id = new_account(admin)["id"]
    base_url, headers = str(admin.base_url), dict(admin.headers)

    def issue(_: int) -> int:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            return client.post(users_path(account_id), json={"purpose": "polaris"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(issue, range(8)))
    assert statuses == [201] + [409] * 7
    assert len(active_polaris(admin, account_id)) == 1


def test_an_onboarding_reissues_its_undelivered_credential_but_no_second_one(
    admin: httpx.Client,
) -> None:
    account_id = account_with_product(admin)
    onboarding = start(admin, account_id)
    path = f"/admin/onboardings/{onboarding['id']}/credential"
    first = created(admin.post(path))
    second = created(admin.post(path))  # the password was lost before delivery
    assert second["revoked_api_user_id"] == first["api_user_id"]
    assert [u["id"] for u in active_polaris(admin, account_id)] == [second["api_user_id"]]
    problem(
        admin.post(users_path(account_id), json={"purpose": "polaris"}),
        409,
        "polaris_credential_exists",
    )


def test_a_rotation_has_room_for_exactly_two_until_it_completes(admin: httpx.Client) -> None:
    account_id, old = onboarded(admin)
    rotation = start(admin, account_id, kind="rotation")
    assert rotation["kind"] == "rotation"
    assert rotation["replaces_api_user_id"] == old["api_user_id"]
    path = f"/admin/onboardings/{rotation['id']}"
    new = created(admin.post(f"{path}/credential"))
    again = created(admin.post(f"{path}/credential"))  # undelivered: revoked and reissued
    assert again["revoked_api_user_id"] == new["api_user_id"]

    both = active_polaris(admin, account_id)
    assert [(u["id"], u["replaces_id"]) for u in both] == [
        (old["api_user_id"], None),
        (again["api_user_id"], old["api_user_id"]),
    ]
    third = problem(
        admin.post(users_path(account_id), json={"purpose": "polaris"}),
        409,
        "polaris_credential_exists",
    )
    assert third["active_integration_user_ids"] == [old["api_user_id"], again["api_user_id"]]
    # A second rotation while this one runs is this one.
    assert start(admin, account_id, kind="rotation")["id"] == rotation["id"]

    for stage in ("email_sent", "text_sent"):
        ok(admin.post(f"{path}/stages/{stage}", json={"api_user_id": again["api_user_id"]}))
    assert ok(admin.get(path))["status"] == "awaiting_first_use"
    done = ok(admin.post(f"{path}/stages/verified", json={}))
    assert done["status"] == "rotated"
    after = active_polaris(admin, account_id)
    assert [(u["id"], u["replaces_id"]) for u in after] == [(again["api_user_id"], None)]
    assert ok(admin.get(f"/admin/integration-users/{old['api_user_id']}"))["is_active"] is False
    problem(
        admin.post(users_path(account_id), json={"purpose": "polaris"}),
        409,
        "polaris_credential_exists",
    )


def test_rotating_needs_a_live_credential(admin: httpx.Client) -> None:
    account_id = account_with_product(admin)
    response = admin.post(
        "/admin/onboardings",
        json={"account_id": account_id, "polaris": POLARIS, "kind": "rotation"},
    )
    assert (
        "no active Polaris credential" in problem(response, 409, "no_polaris_credential")["detail"]
    )


def test_a_live_account_onboards_new_sites_under_its_credential(admin: httpx.Client) -> None:
    account_id, live = onboarded(admin)
    onboarding = start(admin, account_id)
    assert onboarding["uses_existing_credential"] is True
    assert onboarding["api_user_id"] == live["api_user_id"]
    path = f"/admin/onboardings/{onboarding['id']}"
    problem(admin.post(f"{path}/credential"), 409, "credentials_already_delivered")

    ok(admin.post(f"{path}/stages/email_sent", json={"api_user_id": live["api_user_id"]}))
    waiting = ok(admin.get(path))
    assert waiting["status"] == "awaiting_store_ids"  # no text: the credential went long ago
    assert waiting["credentials_delivered"] is True
    assert [
        o["id"]
        for o in ok(
            admin.get(
                "/admin/onboardings",
                params={"status": "awaiting_store_ids", "account_id": account_id},
            )
        )
    ] == [onboarding["id"]]
    assert [u["id"] for u in active_polaris(admin, account_id)] == [live["api_user_id"]]
