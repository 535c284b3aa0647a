"""The `onboarding` command as an account manager uses it, on the real Prefect engine:
start an onboarding, see it wait for Polaris, get wrong store IDs refused with
nothing submitted, give the right ones, and see the run complete."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from click.testing import Result

from harness.prefect_env import (
    FlowRunner,
    PrefectServer,
    form_description,
    read_run,
    wait_for_state,
)
from harness.system_fixtures import OnboardingCli

ONBOARDING = Path(sys.executable).with_name("onboarding")
CROWN = "The Crown, Soho|12 Dean Street, London|crown-soho"
ANCHOR = "The Anchor|3 Harbourside, Bristol|anchor"

WAITING = re.compile(
    r"waiting for Polaris's store IDs since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ (second|minute)s?\)"
)


def test_an_onboarding_from_start_to_finish_on_the_command_line(
    flows_runner: FlowRunner,
    prefect_server: PrefectServer,
    ledger_admin: httpx.Client,
    onboarding_cli: OnboardingCli,
    polaris: dict[str, str],
) -> None:
    admin = ledger_admin
    account = _merchant_with_a_mapped_site(admin)
    contact = ["--polaris-name", polaris["name"], "--polaris-email", polaris["email"]]
    contact += ["--polaris-mobile", polaris["mobile"]]

    started = onboarding_cli(
        "start", "--account", str(account), *contact, "--site", CROWN, "--site", ANCHOR
    )
    assert started.exit_code == 0, started.output
    run_id = UUID(re.search(r"Run:\s+([0-9a-f-]{36})", started.stdout)[1])  # type: ignore[index]
    assert "Started onboarding Crown Inns" in started.stdout
    assert f"/runs/flow-run/{run_id}" in started.stdout
    short = str(run_id)[:8]
    assert f"onboarding status {short}" in started.stdout

    wait_for_state(run_id, "PAUSED")
    pause_key = _pause_key(run_id)

    # `status RUN`: the stages done so far, and what the run waits for, in words.
    status = onboarding_cli("status", short)
    assert status.exit_code == 0, status.output
    assert WAITING.search(status.stdout), status.stdout
    for stage in (
        "add sites for Crown Inns",
        "create API user for Crown Inns",
        "build encrypted file for Crown Inns",
        f"email Polaris ({polaris['email']}) for Crown Inns",
        f"text password to {polaris['mobile']}",
    ):
        assert re.search(rf"Completed\s+{re.escape(stage)}", status.stdout), status.stdout
    assert "For sites:  The Crown, Soho" in status.stdout
    assert f"onboarding store-ids {short}" in status.stdout

    detail = _json(onboarding_cli("status", str(run_id), "--json"))
    assert detail["id"] == str(run_id) and detail["state_type"] == "PAUSED"
    assert detail["situation"]["waiting_for"] == "store_ids"
    assert WAITING.fullmatch(detail["situation"]["text"])
    assert [s["name"] for s in detail["form"]["sites"]] == ["The Crown, Soho", "The Anchor"]
    assert detail["form"]["problems"] == []
    assert all(stage["state_type"] == "COMPLETED" for stage in detail["stages"])
    sites = {s["name"]: s["site_id"] for s in detail["form"]["sites"]}

    # `list --waiting`, as a person reads it and as JSON from the installed command.
    waiting = onboarding_cli("list", "--waiting")
    assert waiting.exit_code == 0, waiting.output
    line = next(x for x in waiting.stdout.splitlines() if short in x)
    assert "onboard Crown Inns" in line and WAITING.search(line)
    listed = _installed_onboarding(prefect_server, "list", "--waiting", "--json")
    assert str(run_id) in [run["id"] for run in listed]
    since = [run["situation"]["since"] for run in listed]
    assert since == sorted(since)  # oldest first

    # Wrong store IDs: a clear reason each, nothing submitted, the run still waiting.
    for stores, reason in (
        (["The Crown, Soho=PLR-100", "The Anchor=PLR-100"], "is given to more than one site"),
        (["The Crown, Soho=PLR-9", "The Anchor=PLR-200"], "already used by The Old Bell"),
        (["The Crown, Soho=PLR-100"], "The Anchor: a store ID is required."),
        (["The Crown, Soho=PLR-100", "The Old Bell=PLR-200"], "not one of this onboarding's"),
        (["The Crown, Soho=PLR-100", f"{sites['The Crown, Soho']}=PLR-101"], "more than once"),
        (["The Crown, Soho:PLR-100"], "is not SITE=STORE_ID"),
    ):
        refused = onboarding_cli("store-ids", short, *[f"--store={s}" for s in stores])
        _assert_refused(refused, "Nothing was submitted", reason)
    refused_json = _json(
        onboarding_cli("store-ids", short, "--store", "The Crown, Soho=PLR-9", "--json"), code=1
    )
    assert refused_json["error"].startswith("Nothing was submitted")
    assert (
        "The Crown, Soho: store ID 'PLR-9' is already used by The Old Bell."
        in (refused_json["problems"])
    )
    assert "The Anchor: a store ID is required." in refused_json["problems"]
    assert read_run(run_id).state.type.value == "PAUSED"  # type: ignore[union-attr]
    assert _pause_key(run_id) == pause_key  # never resumed
    assert "not used" not in form_description(run_id)
    assert all(s["store_id"] is None for s in _sites(admin, account) if s["name"] != "The Old Bell")

    # The right ones, by name and by site ID: the run resumes, saves and verifies them.
    accepted = onboarding_cli(
        "store-ids",
        short,
        "--store",
        "The Crown, Soho=PLR-100",
        "--store",
        f"{sites['The Anchor']}=PLR-200",
    )
    assert accepted.exit_code == 0, accepted.output
    assert f"Store IDs sent to run {short} (onboard Crown Inns" in accepted.stdout
    assert "The Anchor (site" in accepted.stdout and "PLR-200" in accepted.stdout

    again = onboarding_cli("store-ids", short, "--store", "The Crown, Soho=PLR-100")
    _assert_refused(again, "is not waiting for store IDs")

    wait_for_state(run_id, "COMPLETED", timeout=120)
    finished = onboarding_cli("status", short)
    assert finished.exit_code == 0, finished.output
    assert re.search(r"Now:\s+completed at ", finished.stdout), finished.stdout
    assert re.search(r"Completed\s+verify integration for Crown Inns", finished.stdout)
    assert {s["name"]: s["store_id"] for s in _sites(admin, account)} == {
        "The Crown, Soho": "PLR-100",
        "The Anchor": "PLR-200",
        "The Old Bell": "PLR-9",
    }
    assert short not in onboarding_cli("list", "--waiting").stdout

    unknown = onboarding_cli("status", "00000000-0000-0000-0000-000000000000")
    _assert_refused(unknown, "No flow run 00000000-0000-0000-0000-000000000000")


def _merchant_with_a_mapped_site(admin: httpx.Client) -> int:
    """Crown Inns, whose Old Bell already has Polaris store ID PLR-9."""
    account = admin.post("/admin/accounts", json={"name": "Crown Inns"}).json()["id"]
    admin.post(f"/admin/accounts/{account}/products", json={"name": "Gift voucher"})
    bell = admin.post(
        f"/admin/accounts/{account}/sites",
        json={"name": "The Old Bell", "address": "3 Church Road, York", "reference": "bell"},
    ).json()["id"]
    mapped = admin.put(
        f"/admin/accounts/{account}/store-ids",
        json={"assignments": [{"site_id": bell, "store_id": "PLR-9"}]},
    )
    assert mapped.status_code == 200, mapped.text
    return int(account)


def _sites(admin: httpx.Client, account: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/admin/accounts/{account}/sites").json())


def _pause_key(run_id: UUID) -> str | None:
    state = read_run(run_id).state
    assert state is not None
    return state.state_details.pause_key


def _json(result: Result, code: int = 0) -> Any:
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def _assert_refused(result: Result, *fragments: str) -> None:
    """Exit status 1 and a plain message on stderr: no traceback, nothing on stdout."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _installed_onboarding(prefect_server: PrefectServer, *args: str) -> Any:
    """The installed console command, in its own process, aimed by PREFECT_API_URL."""
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url}
    done = subprocess.run(
        [str(ONBOARDING), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
