"""A credential's first use per store (issue 12), over real HTTP on both databases: the
first call the ledger takes as coming from a store of the account writes one row with
its time, later calls write nothing and send no extra statement, refused calls note
nothing, several processes leave one row, and a note that cannot be written leaves
the till answered and is tried again on the next call."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.core.config import Settings
from api.models import Base
from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.till.contract import created, ok, problem, unknown_code

NOTE = "credential_store_uses"


def user_id_of(admin: httpx.Client, merchant: Merchant) -> int:
    response = admin.get(f"/admin/accounts/{merchant.account_id}/integration-users")
    assert response.status_code == 200, response.text
    users = response.json()
    return next(int(u["id"]) for u in users if u["username"] == merchant.username)


def store_uses(admin: httpx.Client, user_id: int) -> list[dict[str, Any]]:
    response = admin.get(f"/admin/integration-users/{user_id}/store-uses")
    assert response.status_code == 200, response.text
    return list(response.json())


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_.replace("Z", "+00:00"))


@contextmanager
def traced(ledger: LedgerServer) -> Iterator[list[str]]:
    """Every statement the till path sends while the block runs, the notes it owes at
    the block's end included (they go after the answers)."""
    ledger.settle()
    seen: list[str] = []
    with ledger.app.state.till.backend.trace_statements(seen.append):
        yield seen
        ledger.settle()


def notes_in(seen: list[str]) -> list[str]:
    """The inserts of notes among the statements (each note also asks, in the same
    transaction, whether a rotation's old credential is to be revoked)."""
    return [s for s in seen if s.lstrip().upper().startswith(f"INSERT INTO {NOTE.upper()}")]


def test_the_first_call_at_each_store_is_noted_once(
    merchant: Merchant, ledger: LedgerServer, admin: httpx.Client
) -> None:
    user_id = user_id_of(admin, merchant)
    assert store_uses(admin, user_id) == []

    # The first call: a balance check of a code nobody was sold (a 404 the ledger gave
    # after it took the store as the account's).
    before = datetime.now(UTC)
    with traced(ledger) as seen:
        problem(merchant.balance(unknown_code()), 404, "voucher_not_found")
    after = datetime.now(UTC)
    assert len([s for s in notes_in(seen) if s.lstrip().upper().startswith("INSERT")]) == 1, seen
    [first] = store_uses(admin, user_id)
    assert first["store_id"] == merchant.store_ids[0]
    assert (first["site_id"], first["site_name"]) == (merchant.site_ids[0], "Site 1")
    assert before <= at(first["first_used_at"]) <= after

    # The next calls there, of every kind: no extra statement, nothing more written.
    code = merchant.sold_code(1000)
    with traced(ledger) as seen:
        for _ in range(10):
            ok(merchant.balance(code))
    assert len(seen) == 10, seen  # a balance check is one statement, and nothing else
    with traced(ledger) as seen:
        sale = created(merchant.redeem(code, 100))
        created(merchant.reverse(code, sale["transaction_id"]))
        problem(merchant.redeem(code, 10_000), 409, "insufficient_funds")
    assert notes_in(seen) == [], seen
    assert store_uses(admin, user_id) == [first]

    # A second store of the account: a second row, after the first.
    with traced(ledger) as seen:
        ok(merchant.balance(code, store_id=merchant.store_ids[1]))
        ok(merchant.balance(code, store_id=merchant.store_ids[1]))
    assert len(notes_in(seen)) == 1, seen
    uses = store_uses(admin, user_id)
    assert [u["store_id"] for u in uses] == merchant.store_ids
    assert uses[0] == first
    assert (uses[1]["site_id"], uses[1]["site_name"]) == (merchant.site_ids[1], "Site 2")
    assert at(uses[1]["first_used_at"]) > at(first["first_used_at"])


def test_calls_the_ledger_refused_before_the_store_note_nothing(
    merchant: Merchant, ledger: LedgerServer, admin: httpx.Client
) -> None:
    user_id = user_id_of(admin, merchant)
    code = unknown_code()
    url = str(merchant.till.base_url)
    # A wrong password.
    with httpx.Client(base_url=url, auth=(merchant.username, "not-the-password")) as wrong:
        problem(
            wrong.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}),
            401,
            "unauthorized",
        )
    # A store ID that is not one of the account's, and one of another account's.
    problem(merchant.balance(code, store_id="NOT-A-STORE"), 403, "unknown_store")
    other = make_merchant(ledger, admin)
    try:
        problem(merchant.balance(code, store_id=other.store), 403, "unknown_store")
        body = {
            "store_id": other.store,
            "product_id": merchant.product_id,
            "amount": 100,
            "reference": "r-other",
        }
        problem(merchant.till.post("/v1/vouchers", json=body), 403, "unknown_store")
    finally:
        other.close()
    # Input the ledger refused (422), at a store of the account.
    problem(merchant.redeem(code, 0), 422, "invalid_request")
    problem(
        merchant.till.get(f"/v1/vouchers/{code}", params={"store_id": ""}), 422, "invalid_request"
    )
    ledger.settle()
    assert store_uses(admin, user_id) == []

    # A revoked credential of the account, at a store of it.
    issued = ok_created(
        admin.post(f"/admin/accounts/{merchant.account_id}/integration-users", json={})
    )
    with httpx.Client(base_url=url, auth=(issued["username"], issued["password"])) as revoked:
        ok(
            revoked.get(
                f"/v1/vouchers/{merchant.sold_code(100)}", params={"store_id": merchant.store}
            )
        )
        ledger.settle()
        assert [u["store_id"] for u in store_uses(admin, issued["id"])] == [merchant.store]
        ok(admin.post(f"/admin/integration-users/{issued['id']}/revoke"))
        problem(
            revoked.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store_ids[1]}),
            401,
            "unauthorized",
        )
    ledger.settle()
    assert [u["store_id"] for u in store_uses(admin, issued["id"])] == [merchant.store]
    # (and the merchant's own credential: its one good call above, the sale)
    assert [u["store_id"] for u in store_uses(admin, user_id)] == [merchant.store]


def ok_created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_admin_api_lists_a_credentials_stores(
    merchant: Merchant, ledger: LedgerServer, admin: httpx.Client, anonymous: httpx.Client
) -> None:
    user_id = user_id_of(admin, merchant)
    code = merchant.sold_code(500)
    ok(merchant.balance(code, store_id=merchant.store_ids[1]))
    ledger.settle()
    uses = store_uses(admin, user_id)
    assert [(u["store_id"], u["site_id"]) for u in uses] == list(
        zip(merchant.store_ids, merchant.site_ids, strict=True)
    )
    assert all(set(u) == {"store_id", "site_id", "site_name", "first_used_at"} for u in uses)

    # Unknown user: a problem. No token: refused.
    response = admin.get("/admin/integration-users/999999/store-uses")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "integration_user_not_found"
    assert anonymous.get(f"/admin/integration-users/{user_id}/store-uses").status_code == 401
    assert admin.get("/admin/integration-users/0/store-uses").status_code == 422


def test_two_processes_noting_the_same_store_leave_one_row(
    merchant: Merchant, ledger: LedgerServer, admin: httpx.Client, settings: Settings
) -> None:
    user_id = user_id_of(admin, merchant)
    code = merchant.sold_code(1000)
    ledger.settle()
    [first] = store_uses(admin, user_id)
    # Another process on the same database (its own app: its own memory of what it
    # noted), and the till calling it at the same store.
    with (
        serve_ledger(settings) as second,
        httpx.Client(base_url=second.url, auth=(merchant.username, merchant.password)) as till,
    ):
        with traced(second) as seen:
            for _ in range(3):
                ok(till.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}))
        assert len(notes_in(seen)) == 1, seen  # its first call, once: nothing written
    assert store_uses(admin, user_id) == [first]


# --- A note that cannot be written ----------------------------------------------------


@contextmanager
def table_locked(settings: Settings) -> Iterator[None]:
    """Another writer holding what a note needs: SQLite's write lock, or PostgreSQL's
    strongest lock on the table (as a migration altering it would)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"LOCK TABLE {NOTE} IN ACCESS EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


@pytest.fixture
def impatient(database_url: str) -> Iterator[tuple[LedgerServer, Merchant, httpx.Client]]:
    """A ledger whose notes wait at most 2 seconds for the database."""
    settings = make_settings(database_url, store_use_note_timeout_seconds=2.0)
    with (
        serve_ledger(settings) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as admin,
    ):
        merchant = make_merchant(server, admin)
        yield server, merchant, admin
        merchant.close()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "api.till" and r.levelno == logging.WARNING
    ]


def test_a_locked_table_leaves_the_till_answered_and_the_next_call_notes_it(
    impatient: tuple[LedgerServer, Merchant, httpx.Client], caplog: pytest.LogCaptureFixture
) -> None:
    ledger, merchant, admin = impatient
    user_id = user_id_of(admin, merchant)
    code = merchant.sold_code(1000)  # at the first store
    ledger.settle()
    caplog.set_level(logging.WARNING, logger="api.till")
    second = merchant.store_ids[1]
    with table_locked(ledger.settings):
        started = time.monotonic()
        ok(merchant.balance(code, store_id=second))
        answered_in = time.monotonic() - started
        # The answer came while its note still waits for the lock: it waited for nothing.
        assert not ledger.app.state.till.store_uses.idle
        assert answered_in < 2.0
        ledger.settle()  # the note gives up after 2 seconds
        [warning] = warnings_of(caplog)
        assert f"integration user {user_id}'s first use of store '{second}'" in warning
    assert [u["store_id"] for u in store_uses(admin, user_id)] == [merchant.store]

    # The next call there notes it.
    before = datetime.now(UTC)
    ok(merchant.balance(code, store_id=second))
    ledger.settle()
    uses = store_uses(admin, user_id)
    assert [u["store_id"] for u in uses] == merchant.store_ids
    assert at(uses[1]["first_used_at"]) >= before
    assert len(warnings_of(caplog)) == 1


def test_a_dropped_table_leaves_the_till_answered(
    merchant: Merchant,
    ledger: LedgerServer,
    admin: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user_id = user_id_of(admin, merchant)
    code = merchant.sold_code(1000)
    ledger.settle()
    caplog.set_level(logging.WARNING, logger="api.till")
    engine = create_engine(ledger.settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE {NOTE}"))
        # Every call answered, each trying the note again (and failing).
        for _ in range(3):
            ok(merchant.balance(code, store_id=merchant.store_ids[1]))
            ledger.settle()
        assert len(warnings_of(caplog)) == 3, warnings_of(caplog)
        Base.metadata.tables[NOTE].create(engine)
    finally:
        engine.dispose()
    ok(merchant.balance(code, store_id=merchant.store_ids[1]))
    ledger.settle()
    assert [u["store_id"] for u in store_uses(admin, user_id)] == [merchant.store_ids[1]]
    assert len(warnings_of(caplog)) == 3


def test_a_process_remembers_a_bounded_number_of_stores(database_url: str) -> None:
    """With room for one pair, two stores in turn are noted again and again (one
    insert-if-absent each time), and still leave one row each."""
    settings = make_settings(database_url, store_use_cache_size=1)
    with (
        serve_ledger(settings) as ledger,
        httpx.Client(
            base_url=ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as admin,
    ):
        merchant = make_merchant(ledger, admin)
        try:
            code = merchant.sold_code(1000)
            # The sale noted the first store; the second one pushes it out, and so on.
            with traced(ledger) as seen:
                for store_id in merchant.store_ids[::-1] * 2:
                    ok(merchant.balance(code, store_id=store_id))
                    ledger.settle()
            assert len(notes_in(seen)) == 4, seen
            uses = store_uses(admin, user_id_of(admin, merchant))
            assert [u["store_id"] for u in uses] == merchant.store_ids
        finally:
            merchant.close()
