"""The `onboarding` command's answers that need no flow run: refused parameters, an
unreachable Prefect server or ledger, and what a run's state means in words. (An
account the ledger does not have: tests/system/cli/test_onboarding_cli_ledger.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from click.testing import Result
from prefect.client.schemas.objects import FlowRun, State, StateDetails, StateType, TaskRun
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.runs import situation
from flows.cli.starting import StartRequest, flow_parameters
from flows.cli.store_id_entry import parse_entries
from flows.cli.times import duration
from flows.settings import get_settings
from harness.constants import ADMIN_TOKEN
from harness.processes import free_port

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
POLARIS = ["--polaris-name", "Pat Polaris", "--polaris-email", "pat@polaris.example"]
POLARIS += ["--polaris-mobile", "+447700900123"]


def onboarding(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def ledger_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the command at a ledger (ONBOARDING_LEDGER_URL), as the flows are."""

    def point(url: str) -> None:
        monkeypatch.setenv("ONBOARDING_LEDGER_URL", url)
        monkeypatch.setenv("ONBOARDING_LEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


def test_start_names_every_wrong_option_and_starts_nothing() -> None:
    result = onboarding(
        "start",
        "--account",
        "0",
        "--polaris-name",
        "Pat",
        "--polaris-email",
        "pat-at-polaris",
        "--polaris-mobile",
        "07700 900123",
        "--site",
        "The Lamb|9 Lamb Lane",
        "--site",
        "The Crown|1 High Street|",
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "The onboarding was not started:",
        "  - --site 1 ('The Lamb|9 Lamb Lane'): expected NAME|ADDRESS|REFERENCE.",
        "  - --account: Input should be greater than or equal to 1.",
        "  - --polaris-email: value is not a valid email address: "
        "An email address must have an @-sign.",
        "  - --polaris-mobile: expected a mobile number in E.164 form, e.g. +447700900123.",
        "  - --site 2 (reference): String should have at least 1 character.",
    ]

    as_json = onboarding("start", "--account", "0", *POLARIS, "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "error": "The onboarding was not started:",
        "problems": ["--account: Input should be greater than or equal to 1."],
    }


def test_parameters_are_the_flows_own() -> None:
    request = StartRequest(7, " Pat Polaris ", "pat@polaris.example", "+447700900123", [], None)
    assert flow_parameters(request) == {
        "account_id": 7,
        "polaris": {
            "name": "Pat Polaris",
            "email": "pat@polaris.example",
            "mobile": "+447700900123",
        },
    }
    with_site = StartRequest(7, "Pat", "pat@polaris.example", "+447700900123", ["A|1 B St|a"], 3)
    assert flow_parameters(with_site)["sites"] == [
        {"name": "A", "address": "1 B St", "reference": "a"}
    ]
    assert flow_parameters(with_site)["product_id"] == 3


def test_an_unreachable_ledger_is_named(ledger_at: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    ledger_at(url)
    result = onboarding("start", "--account", "1", *POLARIS)
    assert result.exit_code == 1, result.output
    assert f"the ledger at {url} cannot be reached" in result.stderr
    assert "ONBOARDING_LEDGER_URL" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_prefect_server_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: url}):
        for args in (["status"], ["list", "--waiting", "--json"], ["status", "abc12345"]):
            result = onboarding(*args)
            assert result.exit_code == 1, result.output
            message = json.loads(result.stdout)["error"] if "--json" in args else result.stderr
            assert f"Cannot reach the Prefect server at {url}" in message
            assert "PREFECT_API_URL" in message


def test_store_ids_name_sites_by_id_or_exact_name() -> None:
    scope = [
        {"id": 4, "name": "The Crown"},
        {"id": 5, "name": "The Anchor"},
        {"id": 6, "name": "The Anchor"},
    ]
    assert parse_entries(["The Crown=PLR-1", "5 = PLR-2 ", "6=PLR-3"], scope) == (
        {4: "PLR-1", 5: "PLR-2", 6: "PLR-3"},
        [],
    )
    _, problems = parse_entries(
        ["The Anchor=PLR-2", "the crown=PLR-1", "=PLR-9", "4=PLR-1", "4=PLR-1"], scope
    )
    assert problems == [
        "'The Anchor' names more than one site of this onboarding; use its ID (5 or 6).",
        "'the crown' is not one of this onboarding's sites: "
        "The Crown (4), The Anchor (5), The Anchor (6).",
        "'=PLR-9' is not SITE=STORE_ID.",
        "The Crown is given more than once.",
    ]


def _run(state: State) -> FlowRun:
    return FlowRun(flow_id=uuid4(), name="onboard Crown Inns", state=state)


def _state(kind: StateType, name: str, at: datetime, **details: Any) -> State:
    return State(type=kind, name=name, timestamp=at, state_details=StateDetails(**details))


def test_what_a_run_waits_for_is_said_in_words() -> None:
    three_days_ago = NOW - timedelta(days=3, hours=2)
    first_pause = _state(StateType.PAUSED, "Suspended", three_days_ago)
    second_pause = _state(StateType.PAUSED, "Suspended", NOW - timedelta(hours=1))
    form = object()  # only its presence matters here
    waiting = situation(_run(second_pause), [first_pause, second_pause], [], form, NOW)  # type: ignore[arg-type]
    assert waiting.text == "waiting for Polaris's store IDs since 2026-05-01 07:30 UTC (3 days)"
    assert waiting.waiting_for == "store_ids" and waiting.since == three_days_ago

    late = _state(StateType.SCHEDULED, "Late", NOW, scheduled_time=NOW - timedelta(minutes=10))
    said = situation(_run(late), [], [], None, NOW).text
    assert said.startswith("waiting for a worker to pick it up since 2026-05-04 09:20 UTC")
    assert "is `python -m flows.serve`" in said
    fresh = _state(StateType.SCHEDULED, "Resuming", NOW, scheduled_time=NOW)
    assert "flows.serve" not in situation(_run(fresh), [], [], None, NOW).text

    retry_at = NOW + timedelta(seconds=30)
    retrying = TaskRun(
        flow_run_id=uuid4(),
        task_key="email_polaris",
        dynamic_key="0",
        name="email Polaris (pat@polaris.example) for Crown Inns",
        state=_state(StateType.SCHEDULED, "AwaitingRetry", NOW, scheduled_time=retry_at),
    )
    running = situation(_run(_state(StateType.RUNNING, "Running", NOW)), [], [retrying], None, NOW)
    assert running.text == (
        "retrying 'email Polaris (pat@polaris.example) for Crown Inns' at 2026-05-04 09:30 UTC"
    )
    assert running.waiting_for == "retry"

    failed = _state(StateType.FAILED, "Failed", NOW)
    failed.message = "The ledger refused the store IDs: store ID in use"
    assert situation(_run(failed), [], [], None, NOW).text == (
        "failed at 2026-05-04 09:30 UTC: The ledger refused the store IDs: store ID in use"
    )


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (7200, "2 hours"),
        (86400, "1 day"),
        (86400 * 3 + 5000, "3 days"),
    ],
)
def test_durations_read_as_people_say_them(seconds: int, said: str) -> None:
    assert duration(seconds) == said


def test_an_unknown_option_is_a_usage_error() -> None:
    result = onboarding("store-ids", "abc12345")
    assert result.exit_code == 2
    assert "--store" in result.stderr
