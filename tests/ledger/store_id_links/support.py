"""Builders for the store-ID link tests: an onboarding waiting for Polaris's store IDs,
recorded through the admin API as the onboarding flow records it, and its link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.ledger.admin.support import created, ok

POLARIS = {"name": "Pat Polaris", "email": "pat@polaris.example", "mobile": "+447700900123"}
DAY = 86400
PAGE_PATH = "/polaris/store-ids/"


@dataclass
class Waiting:
    account_id: int
    onboarding_id: int
    flow_run_id: str
    sites: list[dict[str, Any]]  # the onboarding's sites, as the admin API lists them

    @property
    def path(self) -> str:
        return f"/admin/onboardings/{self.onboarding_id}"


def waiting_onboarding(
    admin: httpx.Client, merchant: str = "Crown Inns", sites: int = 2, deliver: bool = True
) -> Waiting:
    """An onboarding of a new account with ``sites`` sites, claimed by a flow run, its
    credentials delivered (so it waits for store IDs), as the flow records it."""
    account = created(admin.post("/admin/accounts", json={"name": merchant}))
    created(admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift"}))
    added = [
        created(
            admin.post(
                f"/admin/accounts/{account['id']}/sites",
                json={
                    "name": f"The Crown {n}",
                    "address": f"{n} Dean Street, London",
                    "reference": f"crown-{n}",
                },
            )
        )
        for n in range(1, sites + 1)
    ]
    onboarding = created(
        admin.post("/admin/onboardings", json={"account_id": account["id"], "polaris": POLARIS})
    )
    waiting = Waiting(account["id"], onboarding["id"], str(uuid.uuid4()), added)
    claim(admin, waiting, waiting.flow_run_id, expected=None)
    ok(
        admin.post(
            f"{waiting.path}/stages/sites_added", json={"site_ids": [s["id"] for s in added]}
        )
    )
    if deliver:
        deliver_credentials(admin, waiting)
    return waiting


def claim(admin: httpx.Client, waiting: Waiting, run: str, expected: str | None) -> None:
    ok(
        admin.post(
            f"{waiting.path}/claim", json={"flow_run_id": run, "expected_flow_run_id": expected}
        )
    )
    waiting.flow_run_id = run


def deliver_credentials(admin: httpx.Client, waiting: Waiting) -> None:
    user = created(admin.post(f"{waiting.path}/credential"))
    for stage in ("email_sent", "text_sent"):
        ok(admin.post(f"{waiting.path}/stages/{stage}", json={"api_user_id": user["api_user_id"]}))


def issue_link(
    admin: httpx.Client, waiting: Waiting, valid_for: int = 30 * DAY, run: str | None = None
) -> httpx.Response:
    return admin.post(
        f"{waiting.path}/store-id-link",
        json={"flow_run_id": run or waiting.flow_run_id, "valid_for_seconds": valid_for},
    )


def link_url(admin: httpx.Client, waiting: Waiting, valid_for: int = 30 * DAY) -> str:
    """The run's link, on the ledger under test (its public URL is another's: the
    test server's port is known only once it runs)."""
    response = issue_link(admin, waiting, valid_for)
    assert response.status_code in (200, 201), response.text
    return on_ledger(admin, str(response.json()["url"]))


def on_ledger(admin: httpx.Client, url: str) -> str:
    path = url[url.index(PAGE_PATH) :]
    return f"{str(admin.base_url).rstrip('/')}{path}"


def emailed(admin: httpx.Client, waiting: Waiting) -> dict[str, Any]:
    return dict(
        ok(
            admin.post(
                f"{waiting.path}/store-id-link/emailed",
                json={"flow_run_id": waiting.flow_run_id, "message_id": "<m@toggle.example>"},
            )
        )
    )


def form_body(token: str, values: dict[int, str]) -> dict[str, str]:
    return {"link": token, **{f"site_{site}": value for site, value in values.items()}}
