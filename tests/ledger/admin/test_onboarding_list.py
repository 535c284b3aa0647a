"""Admin API: listing onboarding records by status, filtered in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from api.core.config import Settings
from api.onboardings import repository
from tests.ledger.admin.support import created, new_account, ok

ENDINGS = ("failed", "crashed", "cancelled", "expired")

STATUSES = ("in_progress", "awaiting_store_ids", "verifying", "verified", *ENDINGS)


def _onboarding(admin: httpx.Client, *stages: str) -> dict[str, Any]:
    """A new account's onboarding, with these stages recorded in order (an ending, as a
    flow run of it, ``run-<n>``, ending so)."""
    account_id = new_account(admin)["id"]
    created(admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift voucher"}))
    polaris = {"name": "Pat", "email": "pat@polaris.example", "mobile": "+447700900123"}
    onboarding = created(
        admin.post("/admin/onboardings", json={"account_id": account_id, "polaris": polaris})
    )
    path = f"/admin/onboardings/{onboarding['id']}"
    api_user_id = None
    for n, stage in enumerate(stages):
        if stage in ENDINGS[1:]:
            run = f"run-{n}"
            claim = {"flow_run_id": run, "expected_flow_run_id": onboarding["flow_run_id"]}
            ok(admin.post(f"{path}/claim", json=claim))
            ending = {"flow_run_id": run, "ended_as": stage, "reason": "it stopped"}
            onboarding = ok(admin.post(f"{path}/ending", json=ending))["onboarding"]
            continue
        if stage in ("email_sent", "text_sent") and api_user_id is None:
            api_user_id = created(admin.post(f"{path}/credential"))["api_user_id"]
        body = {"api_user_id": api_user_id, "reason": "till said no"}
        onboarding = ok(admin.post(f"{path}/stages/{stage}", json=body))
    return onboarding


def _one_of_each(admin: httpx.Client) -> dict[str, list[int]]:
    rows = [
        _onboarding(admin),
        _onboarding(admin, "email_sent"),  # one delivery of two: still in progress
        _onboarding(admin, "email_sent", "text_sent"),
        _onboarding(admin, "email_sent", "text_sent", "store_ids_saved"),
        _onboarding(admin, "email_sent", "text_sent", "store_ids_saved", "failed"),
        _onboarding(admin, "email_sent", "text_sent", "store_ids_saved", "failed", "verified"),
        _onboarding(admin, "failed"),
        _onboarding(admin, "email_sent", "text_sent", "expired"),
        _onboarding(admin, "email_sent", "text_sent", "cancelled"),
        _onboarding(admin, "crashed"),
        _onboarding(admin, "email_sent", "text_sent", "store_ids_saved", "crashed"),
    ]
    expected: dict[str, list[int]] = {status: [] for status in STATUSES}
    for row in rows:
        expected[row["status"]].append(row["id"])
    return expected


def test_listing_by_status_matches_each_records_status(admin: httpx.Client) -> None:
    expected = _one_of_each(admin)
    assert {s: len(ids) for s, ids in expected.items()} == {
        "in_progress": 2, "awaiting_store_ids": 1, "verifying": 1, "verified": 1, "failed": 2,
        "crashed": 2, "cancelled": 1, "expired": 1,
    }  # fmt: skip
    for status, ids in expected.items():
        listed = ok(admin.get("/admin/onboardings", params={"status": status}))
        assert [o["id"] for o in listed] == ids, status
        assert {o["status"] for o in listed} <= {status}
    every = ok(admin.get("/admin/onboardings"))
    assert sorted(o["id"] for o in every) == sorted(i for ids in expected.values() for i in ids)


def _record_into(loaded: list[int]) -> Callable[[Session, Any], None]:
    return lambda _session, instance: loaded.append(instance.id)


def test_the_status_filter_runs_in_the_query(admin: httpx.Client, settings: Settings) -> None:
    """Only the matching rows are loaded from the database, not every row."""
    expected = _one_of_each(admin)
    engine = create_engine(settings.database_url)
    try:
        for status, ids in expected.items():
            with Session(engine) as session:
                loaded: list[int] = []
                event.listen(session, "loaded_as_persistent", _record_into(loaded))
                found = repository.list_all(session, status=status)
                assert [o.id for o in found] == ids, status
                assert all(o.status == status for o in found)
                assert loaded == ids, status
    finally:
        engine.dispose()
