"""The store-ID page under attack: a link hammered with bad input is rate-limited (one
window per link, kept in the database, so it holds across ledger processes), forged
links cost no database work at all, and the token never reaches a log whole."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from api.core.logging import MaskCardNumbers
from api.store_id_links.tokens import LinkSigner
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.admin.support import ok
from tests.ledger.store_id_links.support import form_body, link_url, waiting_onboarding
from tests.ledger.store_id_links.test_page import page

HITS = 100
LIMIT = 30


@pytest.fixture
def limited_ledger(database_url: str) -> Iterator[LedgerServer]:
    settings = make_settings(
        database_url, store_id_page_max_requests=LIMIT, store_id_page_window_seconds=60
    )
    with serve_ledger(settings) as server:
        yield server


def test_a_link_hit_100_times_a_minute_with_bad_input_is_rate_limited(
    limited_ledger: LedgerServer,
) -> None:
    with httpx.Client(
        base_url=limited_ledger.url,
        headers={"Authorization": f"Bearer {limited_ledger.settings.resolved_admin_token()}"},
        timeout=60,
    ) as admin:
        waiting = waiting_onboarding(admin)
        url = link_url(admin, waiting)
    token = url.rsplit("/", 1)[1]
    duplicate = {s["id"]: "PLR-1" for s in waiting.sites}

    def hit(n: int) -> httpx.Response:
        if n % 4 == 0:
            return httpx.get(url, timeout=60)
        return httpx.post(url, data=form_body(token, duplicate), timeout=60)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(hit, range(HITS)))

    statuses = [r.status_code for r in responses]
    assert not [s for s in statuses if s >= 500], statuses
    answered = [r for r in responses if r.status_code != 429]
    limited = [r for r in responses if r.status_code == 429]
    # Exactly the window's allowance is served, whatever the interleaving.
    assert len(answered) == LIMIT, statuses
    assert len(limited) == HITS - LIMIT
    assert {r.status_code for r in answered} <= {200, 422}
    for response in limited:
        shown = page(response, 429)
        assert shown.heading == "Too many attempts"
        assert 1 <= int(response.headers["retry-after"]) <= 60
    # Another link is not slowed by this one's limit.
    with httpx.Client(
        base_url=limited_ledger.url,
        headers={"Authorization": f"Bearer {limited_ledger.settings.resolved_admin_token()}"},
    ) as admin:
        other = waiting_onboarding(admin, merchant="Other Inns")
        assert page(httpx.get(link_url(admin, other)), 200).fields()


def test_forged_links_cost_no_database_work(ledger: LedgerServer, admin: httpx.Client) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    base = url.rsplit("/", 1)[0]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = ledger.app.state.ledger.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        stranger = LinkSigner("a-key-the-ledger-does-not-have-" + "x" * 16)

        def forge(n: int) -> int:
            token = stranger.token(f"guess-{n:016d}")
            with httpx.Client(timeout=60) as client:
                client.post(f"{base}/{token}", data={"link": token, "site_1": "x" * 64})
                return client.get(f"{base}/{token}").status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(forge, range(100))) == {404}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_the_token_is_masked_in_the_access_log(
    ledger: LedgerServer, admin: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    waiting = waiting_onboarding(admin)
    url = link_url(admin, waiting)
    token = url.rsplit("/", 1)[1]
    # uvicorn's access line, through the filter the ledger puts on its loggers.
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50432", "GET", f"/polaris/store-ids/{token}?x=1", "1.1", 200),
        None,
    )
    assert MaskCardNumbers().filter(record)
    line = record.getMessage()
    assert token not in line and f"/polaris/store-ids/…{token[-4:]}?x=1" in line

    with caplog.at_level(logging.DEBUG):
        page(httpx.get(url), 200)
        page(httpx.post(url, data=form_body(token, {s["id"]: "" for s in waiting.sites})), 422)
        ok(admin.get("/admin/store-id-links", params={"onboarding_id": waiting.onboarding_id}))
    # The ledger's own records (this test's httpx client logs the URLs it was given).
    ledgers = [r for r in caplog.records if r.name.startswith(("uvicorn", "api", "sqlalchemy"))]
    logged = "\n".join(r.getMessage() for r in ledgers)
    assert '"POST /polaris/store-ids/…' in logged  # the access log was captured
    assert token not in logged and token.split(".")[0] not in logged
