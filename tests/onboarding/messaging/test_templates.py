"""The templates: strict about missing values, escaped in HTML only."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from flows.messaging.email import build_failure_email, build_polaris_reminder
from flows.messaging.sms import polaris_password_text
from flows.templating import render
from tests.onboarding.messaging.settings import SettingsFactory
from tests.onboarding.polaris_file import SAMPLE_SITES


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render("polaris_password.txt.j2", merchant_name="The Crown")


def test_password_text_is_one_short_line() -> None:
    text = polaris_password_text("The Crown Group", "K7QH-3MWA-XR9C-4TNP-JE6F-HYDK-7WAM-CN3R")
    assert "\n" not in text
    assert "K7QH-3MWA-XR9C-4TNP-JE6F-HYDK-7WAM-CN3R" in text
    assert "The Crown Group" in text
    assert len(text) <= 160  # one SMS segment


def test_text_parts_are_not_html_escaped() -> None:
    text = render(
        "polaris_reminder.txt.j2",
        contact_name="Priya",
        merchant_name="Fish & Chips <Ltd>",
        sites=SAMPLE_SITES,
        days_waiting=1,
    )
    assert "Fish & Chips <Ltd>" in text
    assert "1 day since" in text


def test_reminder_names_the_sites_and_the_days_and_threads_under_the_first_email(
    onboarding_settings: SettingsFactory,
) -> None:
    message = build_polaris_reminder(
        to="priya.shah@polaris.example",
        contact_name="Priya Shah",
        merchant_name="The Crown Group",
        sites=SAMPLE_SITES[:2],
        days_waiting=4,
        original_message_id="<first@toggle.example>",
        settings=onboarding_settings(),
    )
    assert message["In-Reply-To"] == "<first@toggle.example>"
    assert "still needed" in message["Subject"]
    for preference in ("plain", "html"):
        part = message.get_body(preferencelist=(preference,))
        assert part is not None
        body = part.get_content()
        assert "4 days" in body
        assert SAMPLE_SITES[0].reference in body and SAMPLE_SITES[1].reference in body
        assert SAMPLE_SITES[2].reference not in body


def test_failure_email_says_what_failed_where(onboarding_settings: SettingsFactory) -> None:
    message = build_failure_email(
        to=["priya.shah@polaris.example", "ops@toggle.example"],
        merchant_name="The Crown Group",
        stage="verify integration",
        site_name="The Anchor & Hope",
        call="POST /v1/vouchers/redeem",
        error="HTTP 409: insufficient balance <details>",
        run_url="http://127.0.0.1:4200/runs/flow-run/abc",
        settings=onboarding_settings(),
    )
    assert message["To"] == "priya.shah@polaris.example, ops@toggle.example"
    assert "The Crown Group" in message["Subject"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    for expected in (
        "verify integration",
        "POST /v1/vouchers/redeem",
        "http://127.0.0.1:4200/runs/flow-run/abc",
    ):
        assert expected in text_body and expected in html_body
    assert "The Anchor & Hope" in text_body and "The Anchor &amp; Hope" in html_body
    assert "insufficient balance <details>" in text_body
    assert "insufficient balance &lt;details&gt;" in html_body


def test_failure_email_without_site_call_or_link(onboarding_settings: SettingsFactory) -> None:
    message = build_failure_email(
        to=["ops@toggle.example"],
        merchant_name="The Crown Group",
        stage="add sites",
        error="the ledger answered 503",
        settings=onboarding_settings(),
    )
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert "Site:" not in body and "Call:" not in body and "Prefect:" not in body


@pytest.mark.parametrize(
    ("ended_as", "said"),
    [
        ("failed", "has failed"),
        ("crashed", "the process running it was lost"),
        ("cancelled", "was cancelled"),
        ("expired", "did not come before the wait expired"),
    ],
)
def test_ending_email_says_what_happened_and_how_to_go_on(
    onboarding_settings: SettingsFactory, ended_as: str, said: str
) -> None:
    command = "uv run onboarding start --account 7 --polaris-name 'Pat O'\"'\"'Neil'"
    message = build_failure_email(
        to=["pat@polaris.example", "ops@toggle.example"],
        merchant_name="The Crown Group",
        stage="await store IDs",
        error="The flow was paused & never resumed.",
        run_url="http://127.0.0.1:4321/runs/flow-run/abc",
        ended_as=ended_as,
        restart_command=command,
        deployment_url="http://127.0.0.1:4321/deployments/deployment/def",
        settings=onboarding_settings(),
    )
    assert message["Subject"] == f"Onboarding {ended_as} for The Crown Group: await store IDs"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    for body in (text_body, html_body):
        assert said in body.replace("&#39;", "'")
        assert "http://127.0.0.1:4321/runs/flow-run/abc" in body
        assert "http://127.0.0.1:4321/deployments/deployment/def" in body
        assert "picks up where it stopped" in body
    assert command in text_body
    assert "The flow was paused & never resumed." in text_body
    assert "The flow was paused &amp; never resumed." in html_body
    label = "Error:   " if ended_as == "failed" else "Reason:  "
    assert f"{label}The flow was paused" in text_body
    assert ("no longer works" in text_body) is (ended_as in ("expired", "cancelled"))
