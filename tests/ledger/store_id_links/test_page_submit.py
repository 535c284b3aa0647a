"""Sending the store-ID form: the flow's own checks (contract.store_ids), each reason
shown beside its field with what was typed kept; a form from elsewhere, or too big, is
refused before it is read; and a Prefect that cannot be reached loses nothing.

Prefect is down here (a closed port); sending to a real Prefect is tested in
tests/system."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness.html_page import Page
from harness.ledger_app import LedgerServer
from tests.ledger.admin.support import new_site, ok
from tests.ledger.store_id_links.support import form_body, link_url, waiting_onboarding
from tests.ledger.store_id_links.test_page import page


def _send(url: str, values: dict[int, str], **headers: str) -> httpx.Response:
    return httpx.post(url, data=form_body(url.rsplit("/", 1)[1], values), headers=headers)


def _errors(shown: Page, site_id: int) -> list[str]:
    """The error texts read out with a field (aria-describedby), its hint left out."""
    return shown.field(f"site_{site_id}").described_by[1:]


def test_a_duplicate_is_shown_by_both_fields_and_what_was_typed_is_kept(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin, sites=3)
    url = link_url(admin, waiting)
    first, second, third = (s["id"] for s in waiting.sites)
    shown = page(_send(url, {first: " PLR-100 ", second: "PLR-100", third: "PLR-300"}), 422)

    duplicate = "Store ID 'PLR-100' is given to more than one site: The Crown 1, The Crown 2."
    assert shown.title.startswith("Error: ")
    assert _errors(shown, first) == [f"Error: {duplicate}"]
    assert _errors(shown, second) == [f"Error: {duplicate}"]
    assert _errors(shown, third) == []
    assert shown.field(f"site_{first}").invalid and shown.field(f"site_{second}").invalid
    assert not shown.field(f"site_{third}").invalid
    # As typed, spaces and all.
    assert [f.value for f in shown.fields()] == [" PLR-100 ", "PLR-100", "PLR-300"]
    # The summary at the top links to the first field concerned.
    (summary,) = [e for e in shown.all("div") if e.attrs.get("role") == "alert"]
    assert duplicate in summary.text
    assert [a.attrs["href"] for a in shown.all("a")] == [f"#site_{first}"]


def test_each_check_the_flow_runs_is_run(ledger: LedgerServer, admin: httpx.Client) -> None:
    waiting = waiting_onboarding(admin, merchant="Old Bell Inns", sites=2)
    first, second = (s["id"] for s in waiting.sites)
    # A third site of the account, not in this onboarding, already has a store ID.
    bell = new_site(admin, waiting.account_id, 9)
    ok(
        admin.put(
            f"/admin/accounts/{waiting.account_id}/store-ids",
            json={"assignments": [{"site_id": bell["id"], "store_id": "PLR-9"}]},
        )
    )
    url = link_url(admin, waiting)

    shown = page(_send(url, {first: "", second: "PLR-2"}), 422)
    assert _errors(shown, first) == ["Error: The Crown 1: a store ID is required."]
    assert _errors(shown, second) == []

    shown = page(_send(url, {first: "PLR-9", second: "PLR-2"}), 422)
    assert _errors(shown, first) == [
        "Error: The Crown 1: store ID 'PLR-9' is already used by Site 9."
    ]

    too_long, accented = "P" * 65, "PLR-Ä1"
    shown = page(_send(url, {first: too_long, second: accented}), 422)
    for site_id in (first, second):
        (error,) = _errors(shown, site_id)
        assert "at most 64 characters" in error
    assert [f.value for f in shown.fields()] == [too_long, accented]

    # A field left out of the form altogether counts as empty.
    body = {"link": url.rsplit("/", 1)[1], f"site_{second}": "PLR-2"}
    shown = page(httpx.post(url, data=body), 422)
    assert _errors(shown, first) == ["Error: The Crown 1: a store ID is required."]


def test_good_store_ids_with_prefect_down_are_kept_to_send_again(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    first, second = (s["id"] for s in waiting.sites)
    shown = page(_send(url, {first: "PLR-1", second: "PLR-2"}), 200)
    assert shown.heading == f"Polaris store IDs for {'Crown Inns'}"
    (notice,) = [e for e in shown.all("div") if e.attrs.get("role") == "status"]
    assert "could not pass your store IDs on just now: nothing was sent" in notice.text
    assert [f.value for f in shown.fields()] == ["PLR-1", "PLR-2"]
    assert not any(f.invalid for f in shown.fields())
    (link,) = ok(
        admin.get("/admin/store-id-links", params={"onboarding_id": waiting.onboarding_id})
    )
    assert link["used_at"] is None and link["state"] == "active"
    # Nothing reached the sites either: the flow saves store IDs, not the page.
    sites = ok(admin.get(f"/admin/accounts/{waiting.account_id}/sites"))
    assert all(site["store_id"] is None for site in sites)


def test_a_form_from_elsewhere_is_refused(ledger: LedgerServer, admin: httpx.Client) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    token = url.rsplit("/", 1)[1]
    values = {s["id"]: f"PLR-{n}" for n, s in enumerate(waiting.sites)}
    fields = {f"site_{site}": value for site, value in values.items()}

    refused = [
        httpx.post(url, data=fields),  # no token in the form
        httpx.post(url, data={**fields, "link": token[:-1] + "x"}),
        _send(url, values, origin="https://attacker.example"),
        _send(url, values, origin="null"),  # a sandboxed frame, a data: page
        _send(url, values, referer="https://attacker.example/page"),
        httpx.post(url, json={"link": token, **fields}),  # not a form
    ]
    for response in refused:
        shown = page(response, 403)
        assert shown.heading == "This form could not be accepted"
    # From the page itself (its origin, as a browser names it), the form is read.
    ours = str(admin.base_url).rstrip("/")
    assert page(_send(url, values, origin=ours), 200).fields()


def test_a_body_too_big_for_the_form_is_refused_unread(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    token = url.rsplit("/", 1)[1]
    big = {"link": token, "padding": "x" * 200_000}
    assert page(httpx.post(url, data=big), 413).heading == "This form is too large"

    def chunks() -> Iterator[bytes]:
        yield f"link={token}&".encode()
        for _ in range(100):
            yield b"x" * 10_000

    streamed = httpx.post(
        url, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert page(streamed, 413).heading == "This form is too large"
