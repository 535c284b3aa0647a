"""Whether a second run may take an onboarding over from the run recorded on it: only
when Prefect says it has no such run. A Prefect API that cannot answer is not "no
run": the error propagates and the onboarding is not claimed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prefect import flow, get_client
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from contract.onboardings import OnboardingOut
from flows import onboarding as onboarding_flow
from harness.faulty_proxy import FaultyProxy
from harness.prefect_env import PrefectServer


@flow(name="flow-run-state-probe")
def _probe() -> None:
    pass


class _NoClaims:
    """A ledger the takeover must never reach."""

    claims: list[str]

    def __init__(self) -> None:
        self.claims = []

    def claim(self, onboarding_id: int, flow_run_id: str, expected: str | None) -> Any:
        self.claims.append(flow_run_id)
        raise AssertionError("claimed an onboarding whose driving run could not be read")


def _root(server: PrefectServer) -> str:
    return server.api_url.removesuffix("/").removesuffix("/api")


def _scheduled_run() -> str:
    with get_client(sync_client=True) as client:
        return str(client.create_flow_run(_probe).id)


def _onboarding_driven_by(run_id: str) -> OnboardingOut:
    now = "2026-12-03T12:00:00Z"
    return OnboardingOut.model_validate(
        {
            "id": 7, "account_id": 1, "product_id": 1, "polaris_name": "Pat",
            "polaris_email": "pat@polaris.example", "polaris_mobile": "+447700900123",
            "site_ids": [], "flow_run_id": run_id, "api_user_id": None,
            "status": "in_progress", "credentials_delivered": False,
            "sites_added_at": None, "email_sent_at": None, "email_message_id": None,
            "text_sent_at": None, "store_ids_saved_at": None, "verified_at": None,
            "failed_at": None, "failure_reason": None, "last_reminder_at": None,
            "waiting_since": None, "created_at": now, "updated_at": now,
        }
    )  # fmt: skip


def test_a_run_prefect_does_not_have_is_no_live_run(prefect_server: PrefectServer) -> None:
    assert onboarding_flow._flow_run_state(str(uuid.uuid4())) is None
    assert onboarding_flow._flow_run_state("not-a-run-id") is None


def test_a_live_run_is_seen_and_not_taken_over(prefect_server: PrefectServer) -> None:
    live = _scheduled_run()
    state = onboarding_flow._flow_run_state(live)
    assert state in onboarding_flow.LIVE_STATES
    ledger = _NoClaims()
    with pytest.raises(onboarding_flow.OnboardingBusy, match=live):
        onboarding_flow.claim(ledger, _onboarding_driven_by(live), str(uuid.uuid4()))  # type: ignore[arg-type]
    assert ledger.claims == []


@pytest.mark.parametrize("status", [503, 500])
def test_a_prefect_api_error_propagates_and_nothing_is_claimed(
    prefect_server: PrefectServer, status: int
) -> None:
    live = _scheduled_run()
    with FaultyProxy(_root(prefect_server)) as proxy:
        # Every read of that run fails, more times than the client retries.
        proxy.fail_next("GET", rf"/flow_runs/{live}$", status=status, times=100)
        with temporary_settings(
            updates={PREFECT_API_URL: f"{proxy.url}/api", PREFECT_CLIENT_MAX_RETRIES: 1}
        ):
            with pytest.raises(Exception) as raised:
                onboarding_flow._flow_run_state(live)
            assert not isinstance(raised.value, onboarding_flow.ObjectNotFound)
            assert str(status) in str(raised.value)

            ledger = _NoClaims()
            with pytest.raises(Exception, match=str(status)):
                onboarding_flow.claim(ledger, _onboarding_driven_by(live), str(uuid.uuid4()))  # type: ignore[arg-type]
            assert ledger.claims == []
        assert proxy.faulted(), "the proxy never saw the read"


def test_a_blip_shorter_than_the_clients_retries_reads_the_run(
    prefect_server: PrefectServer,
) -> None:
    live = _scheduled_run()
    with FaultyProxy(_root(prefect_server)) as proxy:
        proxy.fail_next("GET", rf"/flow_runs/{live}$", status=503, times=1)
        with temporary_settings(
            updates={PREFECT_API_URL: f"{proxy.url}/api", PREFECT_CLIENT_MAX_RETRIES: 2}
        ):
            assert onboarding_flow._flow_run_state(live) in onboarding_flow.LIVE_STATES
        assert [s.status for s in proxy.seen if live in s.path] == [503, 200]
