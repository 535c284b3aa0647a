"""Polaris's account manager opens the link in the email and types the store IDs, in
a real browser: Debian's Chromium, headless, with JavaScript switched off and a
phone's screen. The email is the `.eml` the flow wrote to the outbox (the embedded
default, as `scripts/up` runs it); the ledger, its page and the flows runner are
this test's own, on the session's Prefect server."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from harness.browser import headless_chromium
from harness.ledger_process import LedgerService
from harness.prefect_env import (
    DEPLOYMENT,
    FlowRunner,
    PrefectServer,
    serve_flows,
    start_onboarding,
    wait_for_state,
)
from harness.prefect_workers import flow_run_processes
from tests.system.flows.polaris_side import store_id_link_from

SITES = [
    {"name": "The Crown, Soho", "address": "12 Dean Street, London", "reference": "crown-soho"},
    {"name": "The Anchor, Bristol", "address": "3 Harbourside, Bristol", "reference": "anchor"},
]
STORE_IDS = {"The Crown, Soho": "PLR-100", "The Anchor, Bristol": "PLR-200"}
DEPLOYMENT_NAME = "store-id-link-browser"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.usefixtures("chromium_present"), pytest.mark.slow]


@pytest.fixture
def outbox_runner(
    prefect_server: PrefectServer, fresh_ledger: LedgerService, tmp_path: Path
) -> Iterator[tuple[FlowRunner, Path]]:
    """The onboarding flow served under a name of its own (the session's runner does not
    pick its runs up), sending its emails and texts to an outbox, as on `scripts/up`."""
    outbox = tmp_path / "outbox"
    env = {
        "ONBOARDING_LEDGER_URL": fresh_ledger.url,
        "ONBOARDING_LEDGER_ADMIN_TOKEN": fresh_ledger.admin_token,
        "ONBOARDING_OUTBOX_DIR": str(outbox),
        "ONBOARDING_DELIVERY_RETRY_DELAY_SECONDS": "0.2",
    }
    with serve_flows(
        prefect_server, tmp_path / "runner", env, deployment_name=DEPLOYMENT_NAME
    ) as runner:
        yield runner, outbox


def test_polaris_enters_the_store_ids_in_a_browser_from_the_emailed_link(
    outbox_runner: tuple[FlowRunner, Path],
    fresh_ledger: LedgerService,
    polaris: dict[str, str],
    tmp_path: Path,
) -> None:
    runner, outbox = outbox_runner
    with fresh_ledger.admin() as admin:
        account = admin.post("/admin/accounts", json={"name": "Crown Inns"}).json()["id"]
        admin.post(f"/admin/accounts/{account}/products", json={"name": "Gift voucher"})
        run_id = start_onboarding(
            {"account_id": account, "polaris": polaris, "sites": SITES},
            deployment=DEPLOYMENT.replace("/polaris-onboarding", f"/{DEPLOYMENT_NAME}"),
        )
        wait_for_state(run_id, "PAUSED", timeout=180)

        # Waiting costs nothing: no process holds the suspended run.
        deadline = time.monotonic() + 30
        while flow_run_processes(run_id):
            assert time.monotonic() < deadline, "the waiting run still holds a process"
            time.sleep(0.5)

        link = store_id_link_from(_the_email(outbox))
        assert link.startswith(f"{fresh_ledger.url}/polaris/store-ids/")

        shots = tmp_path / "screens"
        shots.mkdir()
        with (
            headless_chromium(
                tmp_path / "chromium-profile", java_script_enabled=False, viewport=PHONE
            ) as browser,
            _explained(browser.new_page(), shots, runner, fresh_ledger) as page,
        ):
            _enter_store_ids(page, link, shots)

        wait_for_state(run_id, "COMPLETED", timeout=180)
        (onboarding,) = admin.get("/admin/onboardings", params={"account_id": account}).json()
        assert onboarding["status"] == "verified"
        sites = admin.get(f"/admin/accounts/{account}/sites").json()
        assert {s["name"]: s["store_id"] for s in sites} == STORE_IDS
        (used,) = admin.get(
            "/admin/store-id-links", params={"onboarding_id": onboarding["id"]}
        ).json()
        assert used["used_at"] is not None


def _enter_store_ids(page: Page, link: str, shots: Path) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Polaris store IDs for Crown Inns")
    crown = page.get_by_label("The Crown, Soho")
    anchor = page.get_by_label("The Anchor, Bristol")
    # Each field is labelled by its site, and described by its address and reference.
    expect(crown).to_have_accessible_description("12 Dean Street, London · reference crown-soho")
    _fits_the_screen(page)
    page.screenshot(path=shots / "1-form.png", full_page=True)

    # A duplicate: refused, the reason by each field, the typed values kept.
    crown.fill("PLR-100")
    anchor.fill("PLR-100")
    page.get_by_role("button", name="Send store IDs").click()
    expect(page).to_have_title("Error: Polaris store IDs for Crown Inns | Gift card onboarding")
    reason = (
        "Store ID 'PLR-100' is given to more than one site: The Crown, Soho, The Anchor, Bristol."
    )
    for field in (crown, anchor):
        expect(field).to_have_value("PLR-100")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(f"Error: {reason}")))
    expect(page.get_by_role("alert")).to_contain_text(reason)
    _fits_the_screen(page)
    page.screenshot(path=shots / "2-duplicate-refused.png", full_page=True)

    # The right ones, from the keyboard alone: type, Tab to the next field, Enter.
    crown.fill("")
    crown.type(STORE_IDS["The Crown, Soho"])
    page.keyboard.press("Tab")
    expect(anchor).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type(STORE_IDS["The Anchor, Bristol"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: store IDs received for Crown Inns"
    )
    for name, store_id in STORE_IDS.items():
        expect(page.get_by_role("row").filter(has_text=name)).to_contain_text(store_id)
    page.screenshot(path=shots / "3-received.png", full_page=True)

    # Back to the link later (or a reload): it says they are in, and offers no form.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Store IDs already received")
    expect(page.get_by_role("textbox")).to_have_count(0)


def _fits_the_screen(page: Page) -> None:
    """Readable on a phone: nothing wider than the screen, no sideways scrolling."""
    for element in page.locator("h1, label, input[type=text], button").all():
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def _the_email(outbox: Path) -> EmailMessage:
    emails = sorted(outbox.glob("*.eml"))
    assert len(emails) == 1, emails
    message = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@contextmanager
def _explained(
    page: Page, shots: Path, runner: FlowRunner, ledger: LedgerService
) -> Iterator[Page]:
    """On failure, say where to look: a screenshot and the processes' logs."""
    try:
        yield page
    except Exception as error:
        page.screenshot(path=shots / "failure.png", full_page=True)
        raise AssertionError(
            f"{error}\n\nscreenshots: {shots}\nflows runner log: {runner.log_path}\n"
            f"ledger log: {ledger.log_path}"
        ) from error
