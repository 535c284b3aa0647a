"""Admin API: the store-ID link an onboarding's flow run asks for (to put in the email
to Polaris), the same link again for the same run (a reminder), a new one for a
restarted run (retiring the old), and what became of each, without the link itself."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
from sqlalchemy import MetaData, create_engine, select

from api.core.config import Settings
from api.store_id_links.service import signer
from api.store_id_links.tokens import LINK_ID_BYTES
from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import created, ok, problem
from tests.ledger.store_id_links.support import (
    DAY,
    claim,
    emailed,
    issue_link,
    link_url,
    waiting_onboarding,
)

PAGE = "/polaris/store-ids/"


def test_a_run_gets_one_link_under_the_public_url_and_the_same_one_again(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin)
    first = created(issue_link(admin, waiting))
    assert first["url"].startswith(ledger.settings.public_url.rstrip("/") + PAGE)
    assert first["onboarding_id"] == waiting.onboarding_id
    assert first["flow_run_id"] == waiting.flow_run_id
    assert first["state"] == "active" and first["emailed_at"] is None
    token = first["url"].removeprefix(ledger.settings.public_url.rstrip("/") + PAGE)
    # At least 128 random bits, behind a signature of the ledger's key.
    link_id = signer(ledger.settings).link_id(token)
    assert link_id is not None and len(link_id) * 6 >= LINK_ID_BYTES * 8

    again = ok(issue_link(admin, waiting))
    assert again["url"] == first["url"] and again["id"] == first["id"]
    # A reminder reads the same link, without making one.
    assert ok(admin.get(f"{waiting.path}/store-id-link"))["url"] == first["url"]

    recorded = emailed(admin, waiting)
    assert recorded["emailed_at"] is not None and "url" not in recorded
    listed = ok(admin.get("/admin/store-id-links", params={"onboarding_id": waiting.onboarding_id}))
    assert [link["id"] for link in listed] == [first["id"]]
    assert "url" not in listed[0] and listed[0]["emailed_at"] == recorded["emailed_at"]
    by_run = ok(admin.get("/admin/store-id-links", params={"flow_run_id": waiting.flow_run_id}))
    assert [link["id"] for link in by_run] == [first["id"]]


def test_asking_again_extends_the_link_to_the_new_wait(admin: httpx.Client) -> None:
    waiting = waiting_onboarding(admin)
    short = created(issue_link(admin, waiting, valid_for=60))
    longer = ok(issue_link(admin, waiting, valid_for=2 * DAY))
    assert _time(longer["expires_at"]) > _time(short["expires_at"])
    # ... and never shortens it.
    kept = ok(issue_link(admin, waiting, valid_for=60))
    assert kept["expires_at"] == longer["expires_at"]


def test_a_restarted_onboarding_gets_a_new_link_and_the_old_one_is_replaced(
    admin: httpx.Client,
) -> None:
    waiting = waiting_onboarding(admin)
    old = created(issue_link(admin, waiting))
    first_run = waiting.flow_run_id
    claim(admin, waiting, "run-2-" + first_run[:8], expected=first_run)
    new = created(issue_link(admin, waiting))
    assert new["url"] != old["url"]
    links = ok(admin.get("/admin/store-id-links", params={"onboarding_id": waiting.onboarding_id}))
    assert [(link["id"], link["state"]) for link in links] == [
        (old["id"], "replaced"),
        (new["id"], "active"),
    ]
    assert links[0]["replaced_at"] is not None
    assert ok(admin.get(f"{waiting.path}/store-id-link"))["url"] == new["url"]
    # The old run may no longer hand a link out, nor record one as emailed.
    problem(issue_link(admin, waiting, run=first_run), 409, "not_current_flow_run")


def test_refusals(admin: httpx.Client, ledger: LedgerServer) -> None:
    waiting = waiting_onboarding(admin)
    problem(issue_link(admin, waiting, run="some-other-run"), 409, "not_current_flow_run")
    problem(issue_link(admin, waiting, valid_for=0), 422, "invalid_request")
    problem(issue_link(admin, waiting, valid_for=400 * DAY), 422, "invalid_request")
    problem(admin.get(f"{waiting.path}/store-id-link"), 404, "store_id_link_not_found")
    missing = waiting.path.replace(str(waiting.onboarding_id), "999999")
    response = admin.post(
        f"{missing}/store-id-link", json={"flow_run_id": "x", "valid_for_seconds": 60}
    )
    problem(response, 404, "onboarding_not_found")
    anonymous = httpx.post(
        f"{ledger.url}{waiting.path}/store-id-link",
        json={"flow_run_id": waiting.flow_run_id, "valid_for_seconds": 60},
    )
    problem(anonymous, 401, "unauthorized")
    # Once the store IDs are saved there is nothing to link to.
    ok(admin.post(f"{waiting.path}/stages/store_ids_saved", json={}))
    problem(issue_link(admin, waiting), 409, "onboarding_not_waiting")


def test_the_database_keeps_no_link(
    admin: httpx.Client, ledger: LedgerServer, settings: Settings
) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    token = url.rsplit("/", 1)[1]
    engine = create_engine(settings.database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            text = " ".join(
                " ".join(str(value) for value in row)
                for table in metadata.sorted_tables
                for row in connection.execute(select(table))
            )
    finally:
        engine.dispose()
    assert waiting.flow_run_id in text  # the tables were really read
    assert token not in text and url not in text
    # Nor its signature alone: without the key, the database opens no page.
    assert token.rsplit(".", 1)[1] not in text


def test_a_link_expires(admin: httpx.Client, ledger: LedgerServer) -> None:
    waiting = waiting_onboarding(admin)
    created(issue_link(admin, waiting, valid_for=1))
    time.sleep(1.2)
    (link,) = ok(
        admin.get("/admin/store-id-links", params={"onboarding_id": waiting.onboarding_id})
    )
    assert link["state"] == "expired"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
