"""Admin API: offboarding a merchant from Polaris. One call revokes every active
Polaris credential of the account (a till's very next call with one gets 401) and,
if asked, clears the sites' store IDs; repeating it changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import created, new_account, new_site, ok, problem, sites_of

PROBE = "/v1/vouchers/6301190000000000000"


def offboard_path(account_id: int) -> str:
    return f"/admin/accounts/{account_id}/polaris/offboard"


def merchant_on_polaris(admin: httpx.Client) -> dict[str, Any]:
    """An account with two mapped sites, a Polaris credential and another integration's."""
    account_id = new_account(admin)["id"]
    sites = [new_site(admin, account_id, n) for n in (1, 2)]
    tag = uuid.uuid4().hex[:6]
    stores = {s["id"]: f"PLR-{tag}-{n}" for n, s in enumerate(sites, start=1)}
    assignments = [{"site_id": s, "store_id": t} for s, t in stores.items()]
    ok(admin.put(f"/admin/accounts/{account_id}/store-ids", json={"assignments": assignments}))
    users = f"/admin/accounts/{account_id}/integration-users"
    polaris = created(admin.post(users, json={"label": "Polaris", "purpose": "polaris"}))
    other = created(admin.post(users, json={"label": "Web shop", "purpose": "other"}))
    return {"account_id": account_id, "stores": stores, "polaris": polaris, "other": other}


def till_status(ledger: LedgerServer, user: dict[str, Any]) -> int:
    """A till call as ``user``: 403 unknown_store while the credential works, 401 once not."""
    with httpx.Client(base_url=ledger.url, auth=(user["username"], user["password"])) as till:
        return till.get(PROBE, params={"store_id": "nowhere"}).status_code


def test_offboard_revokes_polaris_credentials_and_clears_store_ids_at_once(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    m = merchant_on_polaris(admin)
    # The till's credential is in use, so the ledger process has it cached.
    assert till_status(ledger, m["polaris"]) == 403

    result = ok(admin.post(offboard_path(m["account_id"]), json={"clear_store_ids": True}))
    assert result["changed"] is True
    assert [c["username"] for c in result["credentials_revoked"]] == [m["polaris"]["username"]]
    assert "password" not in str(result)
    assert sorted((s["site_id"], s["store_id"]) for s in result["store_ids_cleared"]) == sorted(
        m["stores"].items()
    )
    record = result["offboarding"]
    assert record["account_id"] == m["account_id"] and record["clear_store_ids"] is True
    assert record["finished"] is False and record["polaris_emailed_at"] is None

    # The very next till call with the Polaris credential is refused; the other
    # integration's credential still works.
    assert till_status(ledger, m["polaris"]) == 401
    assert till_status(ledger, m["other"]) == 403
    assert [s["store_id"] for s in sites_of(admin, m["account_id"])] == [None, None]
    users = ok(admin.get(f"/admin/accounts/{m['account_id']}/integration-users"))
    assert [u["is_active"] for u in users] == [False, True]


def test_a_second_offboard_changes_nothing_and_continues_the_same_record(
    admin: httpx.Client,
) -> None:
    m = merchant_on_polaris(admin)
    path = offboard_path(m["account_id"])
    first = ok(admin.post(path, json={"clear_store_ids": True, "flow_run_id": "run-1"}))
    revoked_at = ok(admin.get(f"/admin/integration-users/{m['polaris']['id']}"))["revoked_at"]

    # Before its emails went out (a run that died after revoking): the same record.
    again = ok(admin.post(path, json={"clear_store_ids": True, "flow_run_id": "run-2"}))
    assert again["changed"] is False
    assert again["credentials_revoked"] == [] and again["store_ids_cleared"] == []
    record = again["offboarding"]
    assert record["id"] == first["offboarding"]["id"] and record["flow_run_id"] == "run-2"
    assert first["previous_flow_run_id"] is None and again["previous_flow_run_id"] == "run-1"
    assert record["revoked_credentials"] == first["offboarding"]["revoked_credentials"]
    assert record["cleared_store_ids"] == first["offboarding"]["cleared_store_ids"]
    assert ok(admin.get(f"/admin/integration-users/{m['polaris']['id']}"))["revoked_at"] == (
        revoked_at
    )

    # Each email is noted once: noting it again keeps the first.
    emails = f"/admin/offboardings/{record['id']}/emails"
    polaris = ok(admin.post(f"{emails}/polaris", json={"message_id": "<p1@x>"}))
    assert polaris["polaris_message_id"] == "<p1@x>" and polaris["finished"] is False
    again_polaris = ok(admin.post(f"{emails}/polaris", json={"message_id": "<p2@x>"}))
    assert again_polaris["polaris_message_id"] == "<p1@x>"
    assert again_polaris["polaris_emailed_at"] == polaris["polaris_emailed_at"]
    done = ok(admin.post(f"{emails}/merchant", json={"message_id": "<m1@x>"}))
    assert done["finished"] is True
    assert ok(admin.get(f"/admin/offboardings/{record['id']}")) == done

    # Finished: another call changes nothing and makes no new record.
    after = ok(admin.post(path, json={"clear_store_ids": True}))
    assert after["changed"] is False and after["offboarding"] == done


def test_keep_store_ids_leaves_the_sites_mapped(ledger: LedgerServer, admin: httpx.Client) -> None:
    m = merchant_on_polaris(admin)
    result = ok(admin.post(offboard_path(m["account_id"]), json={"clear_store_ids": False}))
    assert result["changed"] is True and result["store_ids_cleared"] == []
    assert result["offboarding"]["clear_store_ids"] is False
    assert till_status(ledger, m["polaris"]) == 401
    stores = {s["id"]: s["store_id"] for s in sites_of(admin, m["account_id"])}
    assert stores == m["stores"]


def test_a_new_polaris_credential_after_an_offboarding_is_a_new_offboarding(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    m = merchant_on_polaris(admin)
    path = offboard_path(m["account_id"])
    first = ok(admin.post(path, json={"clear_store_ids": False}))["offboarding"]
    for recipient in ("polaris", "merchant"):
        ok(admin.post(f"/admin/offboardings/{first['id']}/emails/{recipient}", json={}))
    users = f"/admin/accounts/{m['account_id']}/integration-users"
    again = created(admin.post(users, json={"label": "Polaris", "purpose": "polaris"}))
    assert till_status(ledger, again) == 403

    second = ok(admin.post(path, json={"clear_store_ids": False}))
    assert second["changed"] is True
    assert second["offboarding"]["id"] != first["id"]
    assert [c["id"] for c in second["credentials_revoked"]] == [again["id"]]
    assert till_status(ledger, again) == 401


def test_a_running_onboarding_is_a_conflict_and_nothing_changes(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    m = merchant_on_polaris(admin)
    created(admin.post(f"/admin/accounts/{m['account_id']}/products", json={"name": "Gift"}))
    polaris = {"name": "Pat", "email": "pat@polaris.example", "mobile": "+447700900123"}
    onboarding = created(
        admin.post("/admin/onboardings", json={"account_id": m["account_id"], "polaris": polaris})
    )

    refused = admin.post(offboard_path(m["account_id"]), json={"clear_store_ids": True})
    body = problem(refused, 409, "onboarding_running")
    assert body["onboarding_id"] == onboarding["id"]
    assert f"Onboarding {onboarding['id']}" in body["detail"]
    assert till_status(ledger, m["polaris"]) == 403
    assert {s["id"]: s["store_id"] for s in sites_of(admin, m["account_id"])} == m["stores"]

    # A failed onboarding does not block; it is rewound, so starting it again issues
    # and delivers a new credential (the one it delivered is revoked).
    ok(admin.post(f"/admin/integration-users/{m['polaris']['id']}/revoke"))
    issued = created(admin.post(f"/admin/onboardings/{onboarding['id']}/credential"))
    stages = f"/admin/onboardings/{onboarding['id']}/stages"
    for stage in ("email_sent", "text_sent"):
        ok(admin.post(f"{stages}/{stage}", json={"api_user_id": issued["api_user_id"]}))
    ok(admin.post(f"{stages}/failed", json={"reason": "the store-ID wait expired"}))

    result = ok(admin.post(offboard_path(m["account_id"]), json={"clear_store_ids": True}))
    assert [c["id"] for c in result["credentials_revoked"]] == [issued["api_user_id"]]
    rewound = ok(admin.get(f"/admin/onboardings/{onboarding['id']}"))
    assert rewound["credentials_delivered"] is False and rewound["email_sent_at"] is None
    assert rewound["status"] == "failed"


def test_refusals_are_problems_and_change_nothing(admin: httpx.Client) -> None:
    problem(
        admin.post(offboard_path(987654), json={"clear_store_ids": True}), 404, "account_not_found"
    )
    m = merchant_on_polaris(admin)
    path = offboard_path(m["account_id"])
    for body in (
        {},
        {"clear_store_ids": "perhaps"},
        {"clear_store_ids": True, "flow_run_id": "x" * 65},
    ):
        problem(admin.post(path, json=body), 422, "invalid_request")
    problem(admin.get("/admin/offboardings/987654"), 404, "offboarding_not_found")
    problem(
        admin.post("/admin/offboardings/987654/emails/polaris", json={}),
        404,
        "offboarding_not_found",
    )
    problem(admin.post("/admin/offboardings/1/emails/someone", json={}), 422, "invalid_request")
    users = ok(admin.get(f"/admin/accounts/{m['account_id']}/integration-users"))
    assert all(u["is_active"] for u in users)
    assert {s["id"]: s["store_id"] for s in sites_of(admin, m["account_id"])} == m["stores"]
