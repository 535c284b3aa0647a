"""The store-ID page a link opens, and every way a link stops opening it: each is a
plain page that says what happened and what to do, never a traceback or a 5xx.

Prefect is down for these tests (the ledger's Prefect URL is a closed port): the form
needs nothing of Prefect's to be shown. The tests with a real Prefect server are in
tests/system."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from api.store_id_links.tokens import LinkSigner
from harness.html_page import Page, read_page
from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import created, ok
from tests.ledger.store_id_links.support import (
    claim,
    deliver_credentials,
    emailed,
    issue_link,
    link_url,
    on_ledger,
    waiting_onboarding,
)


def page(response: httpx.Response, status: int) -> Page:
    assert response.status_code == status, f"{response.status_code} {_said(response)}"
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    # The token stays where it is: not cached, not framed, no referrer to elsewhere,
    # and no script runs at all.
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    return read_page(response.text)


def _said(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("text/html"):
        return read_page(response.text).text[:2000]
    return response.text[:2000]


def test_the_link_opens_a_form_with_one_field_per_site(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin, merchant="Crown & Anchor Inns", sites=3)
    url = link_url(admin, waiting)
    shown = page(httpx.get(url), 200)

    assert shown.heading == "Polaris store IDs for Crown & Anchor Inns"
    assert "Crown & Anchor Inns" in shown.title
    fields = shown.fields()
    assert [f.name for f in fields] == [f"site_{s['id']}" for s in waiting.sites]
    for site, field in zip(waiting.sites, fields, strict=True):
        assert field.label == site["name"]
        assert field.value == "" and not field.invalid
        # The address and reference are read out with the field (aria-describedby).
        assert field.described_by == [f"{site['address']} · reference {site['reference']}"]
    # The form repeats the link's token (its CSRF token) and posts back to the link.
    token = url.rsplit("/", 1)[1]
    assert shown.hidden("link") == token
    (form,) = shown.all("form")
    assert form.attrs["method"] == "post" and form.attrs["action"].endswith(token)
    assert "This link works until" in shown.text
    # Readable on a phone.
    (viewport,) = [m for m in shown.all("meta") if m.attrs.get("name") == "viewport"]
    assert "width=device-width" in viewport.attrs["content"]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="signature-changed"),
        pytest.param(lambda t: "x" + t, id="payload-changed"),
        pytest.param(lambda t: t.split(".")[0], id="signature-cut-off"),
        pytest.param(
            lambda t: LinkSigner("another-key-" + "k" * 32).token("a" * 22), id="other-key"
        ),
        pytest.param(lambda t: "A" * 5000, id="very-long"),
        pytest.param(lambda t: "%00%ff%2e%2e%2f" + t, id="odd-bytes"),
        pytest.param(lambda t: "✓" + t, id="non-ascii"),
    ],
)
def test_a_tampered_link_says_it_does_not_work(
    ledger: LedgerServer, admin: httpx.Client, spoil: object
) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    base, token = url.rsplit("/", 1)
    spoiled = spoil(token)  # type: ignore[operator]
    for response in (
        httpx.get(f"{base}/{spoiled}"),
        httpx.post(f"{base}/{spoiled}", data={"link": spoiled}),
    ):
        shown = page(response, 404)
        assert shown.heading == "This link does not work"
        assert shown.fields() == []


def test_an_unknown_but_well_signed_link_does_not_work(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    forged = LinkSigner(ledger.settings.resolved_store_id_link_key()).token("b" * 22)
    shown = page(httpx.get(f"{ledger.url}/polaris/store-ids/{forged}"), 404)
    assert shown.heading == "This link does not work"


def test_an_expired_link_says_so(ledger: LedgerServer, admin: httpx.Client) -> None:
    waiting = waiting_onboarding(admin)
    response = issue_link(admin, waiting, valid_for=1)
    url = on_ledger(admin, created(response)["url"])
    time.sleep(1.2)
    shown = page(httpx.get(url), 410)
    assert shown.heading == "This link has expired"
    assert "reply to our email" in shown.text


def test_a_restart_with_a_new_email_retires_the_old_link_plainly(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin, merchant="Quay Bars")
    old = link_url(admin, waiting)
    emailed(admin, waiting)
    first_run = waiting.flow_run_id

    # The run is restarted: until the new run's link exists, the old one is retired.
    claim(admin, waiting, str(uuid.uuid4()), expected=first_run)
    shown = page(httpx.get(old), 410)
    assert shown.heading == "This link is no longer in use"
    assert "Quay Bars was restarted" in shown.text and "new link" in shown.text

    # The new run emails its own link: the old one now points at that email.
    new = link_url(admin, waiting)
    assert page(httpx.get(old), 410).heading == "This link is no longer in use"
    emailed(admin, waiting)
    shown = page(httpx.get(old), 410)
    assert shown.heading == "This link has been replaced"
    assert "newer email about Quay Bars on" in shown.text
    assert page(httpx.get(new), 200).heading == "Polaris store IDs for Quay Bars"


def test_links_stop_working_when_the_onboarding_no_longer_waits(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    saved = waiting_onboarding(admin, merchant="Saved Inns")
    saved_url = link_url(admin, saved)
    ok(admin.post(f"{saved.path}/stages/store_ids_saved", json={}))
    shown = page(httpx.get(saved_url), 410)
    assert shown.heading == "Store IDs already received"
    assert "Saved Inns" in shown.text and "nothing more to do" in shown.text
    ok(admin.post(f"{saved.path}/stages/verified", json={}))
    assert page(httpx.get(saved_url), 410).heading == "Store IDs already received"

    failed = waiting_onboarding(admin, merchant="Failed Inns")
    failed_url = link_url(admin, failed)
    ok(admin.post(f"{failed.path}/stages/failed", json={"reason": "the wait expired"}))
    shown = page(httpx.get(failed_url), 410)
    assert shown.heading == "This onboarding is no longer waiting for store IDs"
    assert "(failed)" in shown.text


def test_a_link_made_before_the_text_went_out_asks_to_come_back(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin, deliver=False)
    url = link_url(admin, waiting)  # made while the email is being sent
    shown = page(httpx.get(url), 409)
    assert shown.heading == "Not ready yet"
    deliver_credentials(admin, waiting)
    assert page(httpx.get(url), 200).fields()


def test_a_form_posted_to_another_onboardings_link_is_refused(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    ours = waiting_onboarding(admin, merchant="Ours")
    theirs = waiting_onboarding(admin, merchant="Theirs")
    our_url, their_url = link_url(admin, ours), link_url(admin, theirs)
    our_token = our_url.rsplit("/", 1)[1]
    body = {"link": our_token, **{f"site_{s['id']}": "PLR-1" for s in theirs.sites}}
    shown = page(httpx.post(their_url, data=body), 403)
    assert shown.heading == "This form could not be accepted"
    # Nor do our fields get anywhere through their link, or theirs through ours.
    their_token = their_url.rsplit("/", 1)[1]
    body = {"link": their_token, **{f"site_{s['id']}": "PLR-1" for s in ours.sites}}
    assert page(httpx.post(our_url, data=body), 403).heading == "This form could not be accepted"
