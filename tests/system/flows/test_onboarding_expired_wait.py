"""A store-ID wait that expires: Prefect's server fails the paused run ("The flow was
paused and never resumed") with no code of ours running, and the automation on that
event records it in the ledger as expired and tells people once; the reminder flow
leaves it alone, and the store-ID link says the wait is over.

The wait is seconds long (ONBOARDING_STORE_IDS_TIMEOUT_DAYS takes a fraction), on a
``prefect server start`` of this module's own whose pause-expiration loop runs every
second (the test harness's ephemeral server runs no such loop)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flows import settings as flow_settings
from flows.reminders import store_id_reminders
from harness.ledger_process import LedgerService, running_ledger
from harness.prefect_env import FlowRunner, serve_flows, start_onboarding, wait_for_state
from harness.prefect_ui import PrefectUiServer, client_pointed_at, prefect_ui_server
from harness.smtp import SmtpServer
from harness.system import NOTIFY_EMAIL, flow_env_for
from harness.twilio_standin import TwilioStandin
from tests.system.flows.endings_support import (
    ending_notices,
    subject_of,
    text_of,
    wait_for_ending_run,
    wait_for_status,
)
from tests.system.flows.polaris_side import store_id_link_from

WAIT_SECONDS = 6

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def expiring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectUiServer]:
    folder = tmp_path_factory.mktemp("prefect-expiring")
    with prefect_ui_server(folder, pause_expirations_every=1) as server:
        yield server


@pytest.fixture(scope="module")
def own_ledger(
    tmp_path_factory: pytest.TempPathFactory, expiring_server: PrefectUiServer
) -> Iterator[LedgerService]:
    folder = tmp_path_factory.mktemp("ledger-expiring")
    database = f"sqlite:///{folder / 'ledger.sqlite3'}"
    with running_ledger(database, folder, expiring_server.api_url) as service:
        yield service


@pytest.fixture(scope="module")
def flow_env_short_wait(
    own_ledger: LedgerService,
    tmp_path_factory: pytest.TempPathFactory,
    shared_smtp: SmtpServer,
    shared_twilio: TwilioStandin,
) -> dict[str, str]:
    outbox = tmp_path_factory.mktemp("outbox-expiring")
    return {
        **flow_env_for(own_ledger, outbox, shared_smtp, shared_twilio),
        "ONBOARDING_STORE_IDS_TIMEOUT_DAYS": str(WAIT_SECONDS / 86400),
    }


@pytest.fixture(scope="module")
def runner(
    expiring_server: PrefectUiServer,
    tmp_path_factory: pytest.TempPathFactory,
    flow_env_short_wait: dict[str, str],
) -> Iterator[FlowRunner]:
    # Every deployment, with its triggers: the automation is made on this server.
    folder = tmp_path_factory.mktemp("runner-expiring")
    with serve_flows(expiring_server, folder, flow_env_short_wait) as runner:
        yield runner


def test_an_expired_wait_is_recorded_told_once_and_reminded_never(
    expiring_server: PrefectUiServer,
    runner: FlowRunner,
    own_ledger: LedgerService,
    flow_env_short_wait: dict[str, str],
    shared_smtp: SmtpServer,
    polaris: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with own_ledger.admin() as admin, client_pointed_at(expiring_server):
        account = admin.post("/admin/accounts", json={"name": "Lakeland Inns"}).json()
        admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
        sites = [{"name": "The Tarn", "address": "1 Tarn Road, Keswick", "reference": "tarn"}]
        parameters = {"account_id": account["id"], "polaris": polaris, "sites": sites}
        run_id = start_onboarding(parameters)
        wait_for_state(run_id, "PAUSED")
        (file_email,) = [
            m
            for m in shared_smtp.messages_to(polaris["email"])
            if any(p.get_filename() for p in m.iter_attachments())
        ]
        link = store_id_link_from(file_email)

        # Nobody answers: Prefect's server fails the run when the wait runs out.
        failed = wait_for_state(run_id, "FAILED", timeout=WAIT_SECONDS + 60)
        assert failed.state is not None and "never resumed" in (failed.state.message or "")

        onboarding = wait_for_status(admin, account["id"], "expired")
        assert onboarding["ended_flow_run_id"] == str(run_id)
        assert "never resumed" in onboarding["failure_reason"]
        assert "within the wait" in onboarding["failure_reason"]
        wait_for_ending_run(run_id)

        # One email, to the contact and our own people, saying what happened and how on.
        for address in (polaris["email"], NOTIFY_EMAIL):
            assert len(ending_notices(shared_smtp, address, "Lakeland Inns")) == 1, address
        (notice,) = ending_notices(shared_smtp, polaris["email"])
        assert subject_of(notice) == "Onboarding expired for Lakeland Inns: await store IDs"
        body = text_of(notice)
        assert "did not come before the wait expired" in body
        assert f"{expiring_server.ui_url}/runs/flow-run/{run_id}" in body
        assert f"uv run onboarding start --account {account['id']}" in body
        assert "The store-ID link in our earlier email no longer works" in body

        # The reminder flow, however overdue the reminder, sends nothing for it.
        for name, value in flow_env_short_wait.items():
            monkeypatch.setenv(name, value)
        flow_settings.get_settings.cache_clear()
        try:
            assert store_id_reminders(after_days=0.000001) == []
        finally:
            flow_settings.get_settings.cache_clear()
        received = shared_smtp.messages_to(polaris["email"])
        assert [m for m in received if "reminder" in str(m["Subject"]).lower()] == []
        assert len(received) == 2  # the file, then the one notice
        assert (
            admin.get(f"/admin/onboardings/{onboarding['id']}").json()["last_reminder_at"] is None
        )

        # The link in the first email says the wait is over.
        page = httpx.get(link, timeout=30)
        assert page.status_code == 410
        assert "waited too long for store IDs" in page.text
