"""The store-ID form in a real browser: Debian's Chromium, headless, through the
Prefect UI to a waiting onboarding, the way the onboarding team enters store IDs.
A `prefect server start` with its UI, the flows runner and the ledger are this
test's own (the fixtures in harness.browser_fixtures)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from harness.browser import headless_chromium
from harness.ledger_process import LedgerService
from harness.prefect_env import FlowRunner, start_onboarding, wait_for_state
from harness.prefect_ui import PrefectUiServer

SITES = [
    {"name": "The Crown, Soho", "address": "12 Dean Street, London", "reference": "crown-soho"},
    {"name": "The Anchor, Bristol", "address": "3 Harbourside, Bristol", "reference": "anchor"},
]
STORE_IDS = {"The Crown, Soho": "PLR-100", "The Anchor, Bristol": "PLR-200"}
SUBMIT_ATTEMPTS = 3

pytestmark = [pytest.mark.usefixtures("chromium_present"), pytest.mark.slow]


def test_store_ids_entered_in_the_prefect_ui(
    ui_flows_runner: FlowRunner,
    prefect_ui: PrefectUiServer,
    fresh_ledger: LedgerService,
    polaris: dict[str, str],
    tmp_path: Path,
) -> None:
    with fresh_ledger.admin() as admin:
        _store_ids_entered(ui_flows_runner, prefect_ui, admin, polaris, tmp_path)


def _store_ids_entered(
    flows_runner: FlowRunner,
    prefect_ui: PrefectUiServer,
    admin: httpx.Client,
    polaris: dict[str, str],
    tmp_path: Path,
) -> None:
    account = admin.post("/admin/accounts", json={"name": "Crown Inns"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding({"account_id": account["id"], "polaris": polaris, "sites": SITES})
    wait_for_state(run_id, "PAUSED", timeout=180)

    form_shot = tmp_path / "store-id-form.png"
    with headless_chromium(tmp_path / "chromium-profile") as browser:
        page = browser.new_page()
        with _explained(page, tmp_path / "failure.png", form_shot, flows_runner, prefect_ui):
            _enter_store_ids(page, f"{prefect_ui.ui_url}/runs/flow-run/{run_id}", form_shot)
            wait_for_state(run_id, "COMPLETED", timeout=180)

            onboarding = admin.get(
                "/admin/onboardings", params={"account_id": account["id"]}
            ).json()[0]
            assert onboarding["status"] == "verified", onboarding
            sites = admin.get(f"/admin/accounts/{account['id']}/sites").json()
            assert {s["name"]: s["store_id"] for s in sites} == STORE_IDS

            # And the UI shows the finished run too.
            page.reload()
            expect(_state_badge(page), "the run page shows the run finished").to_have_text(
                "Completed"
            )


def _enter_store_ids(page: Page, run_url: str, form_shot: Path) -> None:
    page.goto(run_url)
    # A suspended run has state type PAUSED; the UI names the state "Suspended".
    expect(_state_badge(page), "the run page shows the waiting run").to_have_text("Suspended")
    page.locator("header.page-heading-flow-run").get_by_role("button", name="Resume").click()

    form = page.get_by_role("dialog")
    expect(form.get_by_text("Polaris store IDs for Crown Inns")).to_be_visible()
    labels = form.locator(".schema-form-property__label")
    expect(labels, "one field per site").to_have_count(len(SITES))
    assert sorted(labels.all_inner_texts()) == sorted(STORE_IDS), "fields labelled by site name"

    for name, store_id in STORE_IDS.items():
        # The label's `for` names no element, so find the field through its label text.
        field = form.locator(".schema-form-property").filter(has=page.get_by_text(name, exact=True))
        field.locator("textarea").fill(store_id)
    page.screenshot(path=form_shot, full_page=True)
    _submit(page, form)


def _submit(page: Page, form: Locator) -> None:
    """Press Submit until the form closes. Prefect's server on SQLite can answer the
    resume call with a 500 ("database is locked": another writer raced it; the whole
    transaction rolls back), which the UI shows as an "Oops" toast and keeps the form
    open: a person would press Submit again, and so does this, a few times at most."""
    oops = page.locator(".p-toast-container").get_by_text("Something went wrong")
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        seen = oops.count()
        form.get_by_role("button", name="Submit").click()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if form.is_hidden():
                return
            if oops.count() > seen:
                print(f"Submit attempt {attempt}: the Prefect UI said 'Something went wrong'")
                break
            page.wait_for_timeout(200)
        else:
            break
    raise AssertionError(f"the store-ID form did not close after {attempt} Submit(s)")


def _state_badge(page: Page) -> Locator:
    return page.locator("header.page-heading-flow-run .state-badge")


@contextmanager
def _explained(
    page: Page, failure_shot: Path, form_shot: Path, runner: FlowRunner, server: PrefectUiServer
) -> Iterator[None]:
    """On failure, say where to look: screenshots and the two processes' logs."""
    try:
        yield
    except Exception as error:
        page.screenshot(path=failure_shot, full_page=True)
        raise AssertionError(
            f"{error}\n\nscreenshot at failure: {failure_shot}\n"
            f"screenshot of the form: {form_shot if form_shot.exists() else '(not reached)'}\n"
            f"flows runner log: {runner.log_path}\nprefect server log: {server.log_path}"
        ) from error
