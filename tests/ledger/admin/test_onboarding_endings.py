"""Admin API: how an onboarding's flow run ended (failed, crashed, cancelled,
expired), recorded once per run, never over a newer run's claim."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.ledger.admin.support import created, new_account, ok, problem

ENDINGS = ("failed", "crashed", "cancelled", "expired")


def _claimed(admin: httpx.Client) -> tuple[str, str]:
    """A new account's onboarding, waiting for store IDs, claimed by a flow run."""
    account_id = new_account(admin)["id"]
    created(admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift voucher"}))
    polaris = {"name": "Pat", "email": "pat@polaris.example", "mobile": "+447700900123"}
    onboarding = created(
        admin.post("/admin/onboardings", json={"account_id": account_id, "polaris": polaris})
    )
    path = f"/admin/onboardings/{onboarding['id']}"
    run = str(uuid.uuid4())
    ok(admin.post(f"{path}/claim", json={"flow_run_id": run, "expected_flow_run_id": None}))
    api_user_id = created(admin.post(f"{path}/credential"))["api_user_id"]
    for stage in ("email_sent", "text_sent"):
        ok(admin.post(f"{path}/stages/{stage}", json={"api_user_id": api_user_id}))
    return path, run


def _end(admin: httpx.Client, path: str, run: str, ended_as: str, reason: str) -> Any:
    body = {"flow_run_id": run, "ended_as": ended_as, "reason": reason}
    return ok(admin.post(f"{path}/ending", json=body))


@pytest.mark.parametrize("ended_as", ENDINGS)
def test_an_ending_is_recorded_once_per_run_and_is_the_status(
    admin: httpx.Client, ended_as: str
) -> None:
    path, run = _claimed(admin)
    first = _end(admin, path, run, ended_as, "the first watcher's reason")
    assert first["outcome"] == "recorded"
    onboarding = first["onboarding"]
    assert onboarding["status"] == ended_as
    assert onboarding["ended_as"] == ended_as and onboarding["ended_flow_run_id"] == run
    assert onboarding["failure_reason"] == "the first watcher's reason"
    assert onboarding["failed_at"] is not None and onboarding["waiting_since"] is not None

    # Another watcher of the same run (a hook, the automation): nothing new, the first
    # ending and its reason stand, whatever the second one calls it.
    again = _end(admin, path, run, "failed", "the second watcher's reason")
    assert again["outcome"] == "already_recorded"
    assert again["onboarding"]["ended_as"] == ended_as
    assert again["onboarding"]["failure_reason"] == "the first watcher's reason"
    assert again["onboarding"]["failed_at"] == onboarding["failed_at"]

    # Listed under its ending (filtered in the query), not as waiting for store IDs.
    listed = ok(admin.get("/admin/onboardings", params={"status": ended_as}))
    assert onboarding["id"] in [o["id"] for o in listed]
    waiting = ok(admin.get("/admin/onboardings", params={"status": "awaiting_store_ids"}))
    assert onboarding["id"] not in [o["id"] for o in waiting]


def test_a_new_run_clears_the_ending_and_an_old_runs_ending_changes_nothing(
    admin: httpx.Client,
) -> None:
    path, first_run = _claimed(admin)
    _end(admin, path, first_run, "crashed", "Flow run process exited with status -9.")
    second_run = str(uuid.uuid4())
    claim = {"flow_run_id": second_run, "expected_flow_run_id": first_run}
    claimed = ok(admin.post(f"{path}/claim", json=claim))
    assert claimed["status"] == "awaiting_store_ids"  # picks up where it stopped
    assert claimed["ended_as"] is None and claimed["failure_reason"] is None

    # The first run's ending seen late (an automation behind its events): not recorded.
    late = _end(admin, path, first_run, "cancelled", "cancelled from the UI")
    assert late["outcome"] == "not_current_run"
    assert late["onboarding"]["flow_run_id"] == second_run
    assert late["onboarding"]["status"] == "awaiting_store_ids"
    assert ok(admin.get(path))["ended_as"] is None

    # A run that never drove it (it found the onboarding busy) records nothing either.
    stranger = _end(admin, path, str(uuid.uuid4()), "failed", "busy")
    assert stranger["outcome"] == "not_current_run"


def test_a_verified_onboarding_records_no_ending(admin: httpx.Client) -> None:
    path, run = _claimed(admin)
    ok(admin.post(f"{path}/stages/store_ids_saved", json={}))
    ok(admin.post(f"{path}/stages/verified", json={}))
    answer = _end(admin, path, run, "crashed", "killed after it finished")
    assert answer["outcome"] == "already_verified"
    assert answer["onboarding"]["status"] == "verified"
    assert answer["onboarding"]["ended_as"] is None


def test_the_older_failed_stage_is_a_failed_ending_of_the_current_run(
    admin: httpx.Client,
) -> None:
    path, run = _claimed(admin)
    failed = ok(admin.post(f"{path}/stages/failed", json={"reason": "till said no"}))
    assert (failed["status"], failed["ended_as"], failed["ended_flow_run_id"]) == (
        "failed", "failed", run,
    )  # fmt: skip
    assert _end(admin, path, run, "failed", "again")["outcome"] == "already_recorded"


def test_the_onboarding_of_a_flow_run(admin: httpx.Client) -> None:
    path, run = _claimed(admin)
    (found,) = ok(admin.get("/admin/onboardings", params={"flow_run_id": run}))
    assert f"/admin/onboardings/{found['id']}" == path
    assert ok(admin.get("/admin/onboardings", params={"flow_run_id": str(uuid.uuid4())})) == []


@pytest.mark.parametrize(
    "body",
    [
        {"ended_as": "exploded", "reason": "x"},
        {"ended_as": "failed", "reason": ""},
        {"ended_as": "failed", "reason": "x" * 4001},
        {"ended_as": "failed"},
        {"ended_as": "failed", "reason": "nul \x00 in it"},
    ],
)
def test_a_bad_ending_is_refused_and_changes_nothing(
    admin: httpx.Client, body: dict[str, Any]
) -> None:
    path, run = _claimed(admin)
    problem(admin.post(f"{path}/ending", json={"flow_run_id": run, **body}), 422, "invalid_request")
    assert ok(admin.get(path))["status"] == "awaiting_store_ids"


def test_an_ending_of_no_onboarding_is_not_found(admin: httpx.Client) -> None:
    body = {"flow_run_id": str(uuid.uuid4()), "ended_as": "failed", "reason": "x"}
    problem(admin.post("/admin/onboardings/999999/ending", json=body), 404, "onboarding_not_found")
