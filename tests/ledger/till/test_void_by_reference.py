"""Void by the till's own reference (POST /v1/reversals, till-api.md "Void by the till's
own reference (for timeouts)"): a till that timed out names the sale, redemption or
top-up by the reference it sent with it, at the same store; the ledger reverses it if
it has it, and otherwise records the reference as voided so that the original, arriving
late, moves nothing. The race of an original against its void is in
tests/guarantees/test_void_race.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer, make_settings, serve_ledger
from tests.ledger.till.contract import (
    assert_ledger,
    balance_of,
    created,
    ok,
    problem,
    unknown_code,
)

VOID_FIELDS = {"transaction_id", "reversed_transaction_id", "code", "amount", "balance", "currency"}


def void(
    merchant: Merchant,
    original_reference: str,
    *,
    reference: str | None = None,
    store_id: str | None = None,
) -> httpx.Response:
    body = {
        "store_id": store_id or merchant.store,
        "original_reference": original_reference,
        "reference": reference or merchant.reference(),
    }
    return merchant.till.post("/v1/reversals", json=body)


def new_reference() -> str:
    return f"till-{uuid.uuid4().hex[:12]}"


def nothing_undone(response: httpx.Response) -> dict[str, Any]:
    """Assert the first answer to a void of a reference the ledger never received (or
    of one that moved nothing); return its body."""
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/json"
    assert "Idempotent-Replayed" not in response.headers
    body = dict(response.json())
    assert body.keys() == VOID_FIELDS, body
    assert (body["reversed_transaction_id"], body["code"], body["balance"]) == (None, None, None)
    assert body["amount"] == 0 and type(body["amount"]) is int
    assert body["currency"] == "GBP"
    assert isinstance(body["transaction_id"], str) and body["transaction_id"]
    return body


def vouchers_on_the_ledger(merchant: Merchant) -> int:
    report = merchant.admin.get("/admin/reconciliation")
    assert report.status_code == 200, report.text
    assert report.json()["balanced"] is True, report.json()
    return int(report.json()["vouchers_checked"])


# -- "The ledger has that transaction: it is reversed exactly as by reverse" -----------


def test_a_received_redemption_is_reversed_by_its_reference(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    original = new_reference()
    redemption = created(merchant.redeem(code, 1800, reference=original))

    body = created(void(merchant, original))
    assert body.keys() == VOID_FIELDS
    assert body["reversed_transaction_id"] == redemption["transaction_id"]
    assert body["transaction_id"] not in (redemption["transaction_id"], "")
    assert (body["code"], body["amount"], body["balance"], body["currency"]) == (
        code,
        1800,
        5000,
        "GBP",
    )
    assert ok(merchant.balance(code))["balance"] == 5000
    entries = assert_ledger(merchant, code, balance=5000, kinds=["sale", "redemption", "reversal"])
    assert entries[2]["transaction_id"] == body["transaction_id"]
    assert entries[2]["reverses_transaction_id"] == redemption["transaction_id"]
    assert entries[2]["amount"] == 1800
    assert entries[2]["site_id"] == merchant.site_ids[0]


def test_a_received_top_up_comes_off_only_while_the_balance_holds_it(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    topped = new_reference()
    load = created(merchant.load(code, 3000, reference=topped))
    created(merchant.redeem(code, 2500))  # 1500 left: the top-up is partly spent

    refusal = problem(void(merchant, topped), 409, "insufficient_funds")
    assert refusal["balance"] == 1500
    assert_ledger(merchant, code, balance=1500, kinds=["sale", "load", "redemption"])

    created(merchant.load(code, 1500))
    body = created(void(merchant, topped))
    assert (body["reversed_transaction_id"], body["amount"], body["balance"]) == (
        load["transaction_id"],
        3000,
        0,
    )
    entries = assert_ledger(
        merchant, code, balance=0, kinds=["sale", "load", "redemption", "load", "reversal"]
    )
    assert entries[-1]["amount"] == -3000


def test_a_received_sale_is_cancelled_once_nothing_else_stands(merchant: Merchant) -> None:
    sold, spent = new_reference(), new_reference()
    sale = created(merchant.sell(5000, reference=sold))
    code = sale["code"]
    created(merchant.redeem(code, 2000, reference=spent))

    problem(void(merchant, sold), 409, "voucher_in_use")
    created(void(merchant, spent))
    body = created(void(merchant, sold))
    assert body["reversed_transaction_id"] == sale["transaction_id"]
    assert (body["code"], body["amount"], body["balance"]) == (code, 5000, 0)
    state = ok(merchant.balance(code))
    assert (state["status"], state["balance"]) == ("cancelled", 0)
    assert_ledger(merchant, code, balance=0, kinds=["sale", "redemption", "reversal", "reversal"])


def test_the_same_refusals_as_reverse(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    # Reversed already, under another reference (by /reverse): already_reversed.
    spent = new_reference()
    redemption = created(merchant.redeem(code, 1000, reference=spent))
    undone = new_reference()
    created(merchant.reverse(code, redemption["transaction_id"], reference=undone))
    for _ in range(2):
        problem(void(merchant, spent), 409, "already_reversed")

    # A reversal cannot be reversed: one by /reverse, one by a void, a void of nothing.
    problem(void(merchant, undone), 409, "not_reversible")
    spent_again, voided = new_reference(), new_reference()
    created(merchant.redeem(code, 500, reference=spent_again))
    created(void(merchant, spent_again, reference=voided))
    problem(void(merchant, voided), 409, "not_reversible")
    void_of_nothing = new_reference()
    nothing_undone(void(merchant, new_reference(), reference=void_of_nothing))
    problem(void(merchant, void_of_nothing), 409, "not_reversible")

    assert_ledger(
        merchant,
        code,
        balance=5000,
        kinds=["sale", "redemption", "reversal", "redemption", "reversal"],
    )


def test_a_void_over_the_balance_cap_is_refused(ledger: LedgerServer, admin: httpx.Client) -> None:
    cap = 10_000
    merchant = make_merchant(ledger, admin, balance_cap=cap)
    try:
        code = merchant.sold_code(cap)
        spent = new_reference()
        created(merchant.redeem(code, 5_000, reference=spent))
        created(merchant.load(code, 5_000))
        problem(void(merchant, spent), 409, "balance_limit_exceeded")
        assert balance_of(merchant, code) == cap
        assert_ledger(merchant, code, balance=cap, kinds=["sale", "redemption", "load"])
    finally:
        merchant.close()


def test_a_refused_original_has_nothing_to_undo(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    original = new_reference()
    body = {"store_id": merchant.store, "amount": 5000, "reference": original}
    first = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    problem(first, 409, "insufficient_funds")

    nothing_undone(void(merchant, original))
    # Its retry still gets its own first answer; nothing moved either time.
    again = merchant.till.post(f"/v1/vouchers/{code}/redeem", json=body)
    assert (again.status_code, again.content) == (409, first.content)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_ledger(merchant, code, balance=1000, kinds=["sale"])


# -- "The ledger never received it: 201 with ... null and amount 0; ... recorded as
#    voided, so when the original request arrives later it gets 409 transaction_voided
#    and moves nothing" -------------------------------------------------------------


def _late(response: httpx.Response) -> None:
    problem(response, 409, "transaction_voided")
    assert "Idempotent-Replayed" not in response.headers


def test_a_sale_never_received_is_voided_and_refused_when_it_comes(merchant: Merchant) -> None:
    vouchers = vouchers_on_the_ledger(merchant)
    original = new_reference()
    nothing_undone(void(merchant, original))

    # The till's queue sends the sale afterwards, and again.
    for _ in range(2):
        _late(merchant.sell(2500, reference=original))
    assert vouchers_on_the_ledger(merchant) == vouchers  # no voucher was made


def test_a_redemption_or_top_up_never_received_moves_nothing_later(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    spend, top_up = new_reference(), new_reference()
    nothing_undone(void(merchant, spend))
    nothing_undone(void(merchant, top_up))

    for _ in range(2):
        _late(merchant.redeem(code, 1200, reference=spend))
        _late(merchant.load(code, 700, reference=top_up))
    assert_ledger(merchant, code, balance=5000, kinds=["sale"])


def test_a_late_original_is_refused_whatever_its_body(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    sale = merchant.ledger_of(code)["entries"][0]["transaction_id"]
    original = new_reference()
    nothing_undone(void(merchant, original))

    _late(merchant.redeem(code, 1, reference=original))
    _late(merchant.redeem(code, 999_999, reference=original, allow_partial=True))
    _late(merchant.load(code, 100, reference=original))
    _late(merchant.sell(100, reference=original))
    # Refusals about what the body names give way to the void too.
    _late(merchant.sell(100, reference=original, product_id=999_999))
    _late(merchant.reverse(code, str(uuid.uuid4()), reference=original))
    _late(merchant.reverse(code, sale, reference=original))
    # And a void sent under the voided reference as its own.
    _late(void(merchant, new_reference(), reference=original))
    assert_ledger(merchant, code, balance=5000, kinds=["sale"])
    assert ok(merchant.balance(code))["status"] == "active"


def test_the_void_outlives_the_process_that_recorded_it(ledger: LedgerServer) -> None:
    """Recorded in the database: a ledger process started afterwards refuses the late
    original as well."""
    with httpx.Client(
        base_url=ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as admin:
        merchant = make_merchant(ledger, admin)
        try:
            code = merchant.sold_code(3000)
            original = new_reference()
            nothing_undone(void(merchant, original))
            with (
                serve_ledger(ledger.settings) as restarted,
                httpx.Client(
                    base_url=restarted.url, auth=(merchant.username, merchant.password)
                ) as till,
            ):
                late = till.post(
                    f"/v1/vouchers/{code}/redeem",
                    json={"store_id": merchant.store, "amount": 100, "reference": original},
                )
                _late(late)
            assert_ledger(merchant, code, balance=3000, kinds=["sale"])
        finally:
            merchant.close()


def test_voiding_a_reference_twice_is_already_reversed(merchant: Merchant) -> None:
    never, received = new_reference(), new_reference()
    nothing_undone(void(merchant, never))
    problem(void(merchant, never), 409, "already_reversed")

    code = merchant.sold_code(1000)
    created(merchant.redeem(code, 300, reference=received))
    created(void(merchant, received))
    problem(void(merchant, received), 409, "already_reversed")
    assert_ledger(merchant, code, balance=1000, kinds=["sale", "redemption", "reversal"])


# -- "(at the same store_id)" --------------------------------------------------------


def test_a_reference_is_the_one_sent_at_the_same_store(merchant: Merchant, other: Merchant) -> None:
    store_a, store_b = merchant.store_ids
    code = merchant.sold_code(5000)
    original = new_reference()
    redemption = created(merchant.redeem(code, 1000, reference=original, store_id=store_a))

    # At the other store that reference was never received: it is voided there only.
    nothing_undone(void(merchant, original, store_id=store_b))
    assert balance_of(merchant, code) == 4000
    _late(merchant.redeem(code, 1000, reference=original, store_id=store_b))
    assert balance_of(merchant, code) == 4000

    body = created(void(merchant, original, store_id=store_a))
    assert body["reversed_transaction_id"] == redemption["transaction_id"]
    assert body["balance"] == 5000

    # Another account's reference is not this account's: never received here.
    theirs = new_reference()
    their_code = other.sold_code(1000)
    created(other.redeem(their_code, 400, reference=theirs))
    nothing_undone(void(merchant, theirs))
    assert balance_of(other, their_code) == 600


def test_a_store_not_of_this_account_gets_403(merchant: Merchant, other: Merchant) -> None:
    code = merchant.sold_code(1000)
    original = new_reference()
    created(merchant.redeem(code, 100, reference=original))
    for store in ("NOPE", other.store):
        problem(void(merchant, original, store_id=store), 403, "unknown_store")
    assert_ledger(merchant, code, balance=900, kinds=["sale", "redemption"])
    # Refused before the ledger acted: no record, and the reference was not voided.
    created(void(merchant, original))


# -- "Idempotent like every POST" ----------------------------------------------------


def test_a_void_retried_gets_its_first_answer(merchant: Merchant) -> None:
    code = merchant.sold_code(2000)
    received = new_reference()
    created(merchant.redeem(code, 500, reference=received))
    for original in (received, new_reference()):
        body = {
            "store_id": merchant.store,
            "original_reference": original,
            "reference": new_reference(),
        }
        first = merchant.till.post("/v1/reversals", json=body)
        assert first.status_code == 201, first.text
        for _ in range(2):
            again = merchant.till.post("/v1/reversals", json=body)
            assert (again.status_code, again.content) == (201, first.content)
            assert again.headers["Idempotent-Replayed"] == "true"
        # The same reference for another void: idempotency_conflict.
        problem(
            merchant.till.post(
                "/v1/reversals", json={**body, "original_reference": new_reference()}
            ),
            409,
            "idempotency_conflict",
        )
    assert_ledger(merchant, code, balance=2000, kinds=["sale", "redemption", "reversal"])

    # A refused void is replayed alike.
    refused_body = {"store_id": merchant.store, "original_reference": received, "reference": "x1"}
    first = merchant.till.post("/v1/reversals", json=refused_body)
    problem(first, 409, "already_reversed")
    again = merchant.till.post("/v1/reversals", json=refused_body)
    assert (again.status_code, again.content) == (409, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_void_under_a_reference_used_before_is_a_conflict(merchant: Merchant) -> None:
    code = merchant.sold_code(2000)
    used = new_reference()
    created(merchant.redeem(code, 500, reference=used))
    problem(void(merchant, new_reference(), reference=used), 409, "idempotency_conflict")
    assert_ledger(merchant, code, balance=1500, kinds=["sale", "redemption"])


# -- Conventions: the checks and their order -----------------------------------------


def test_malformed_voids_get_422_and_leave_no_record(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    original = new_reference()
    created(merchant.redeem(code, 100, reference=original))
    good = {"store_id": merchant.store, "original_reference": original, "reference": "v-1"}
    bodies: list[Any] = [
        {k: v for k, v in good.items() if k != "original_reference"},
        {k: v for k, v in good.items() if k != "reference"},
        {k: v for k, v in good.items() if k != "store_id"},
        {**good, "original_reference": ""},
        {**good, "original_reference": "x" * 65},
        {**good, "original_reference": "tab\there"},
        {**good, "original_reference": 12},
        {**good, "reference": None},
        {**good, "reference": original},  # a void named by the reference it voids
        [good],
        "void",
    ]
    for body in bodies:
        problem(merchant.till.post("/v1/reversals", json=body), 422, "invalid_request")
    bad_json = merchant.till.post(
        "/v1/reversals", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    problem(bad_json, 422, "invalid_request")
    assert_ledger(merchant, code, balance=900, kinds=["sale", "redemption"])
    created(merchant.till.post("/v1/reversals", json=good))


def test_credential_first(merchant: Merchant, anonymous: httpx.Client) -> None:
    body = {"store_id": "NOPE", "original_reference": "a", "reference": "b"}
    for response in (
        anonymous.post("/v1/reversals", json=body),
        anonymous.post("/v1/reversals", content=b"{not json"),
        merchant.till.post("/v1/reversals", json=body, auth=(merchant.username, "wrong")),
    ):
        problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == 'Basic realm="toggle"'


@pytest.fixture
def strict_ledger(database_url: str) -> Iterator[LedgerServer]:
    """A ledger that throttles a credential after two failed look-ups."""
    with serve_ledger(make_settings(database_url, throttle_max_failures=2)) as server:
        yield server


def test_throttled_before_shape_and_store_and_voids_never_count(
    strict_ledger: LedgerServer,
) -> None:
    with httpx.Client(
        base_url=strict_ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as admin:
        merchant = make_merchant(strict_ledger, admin)
        try:
            code = merchant.sold_code(1000)
            problem(merchant.balance(unknown_code()), 404, "voucher_not_found")
            # Voids of every outcome are not failed look-ups.
            for _ in range(3):
                nothing_undone(void(merchant, new_reference()))
                problem(void(merchant, new_reference(), store_id="NOPE"), 403, "unknown_store")
            assert balance_of(merchant, code) == 1000
            problem(merchant.balance(unknown_code()), 404, "voucher_not_found")

            for response in (
                void(merchant, new_reference()),
                void(merchant, new_reference(), store_id="NOPE"),
                merchant.till.post("/v1/reversals", json={"store_id": merchant.store}),
            ):
                problem(response, 429, "too_many_attempts")
                assert int(response.headers["Retry-After"]) >= 1
        finally:
            merchant.close()


# -- The OpenAPI document ------------------------------------------------------------


def test_the_operation_is_in_the_openapi_document(anonymous: httpx.Client) -> None:
    document = anonymous.get("/openapi.json").json()
    operation = document["paths"]["/v1/reversals"]["post"]
    assert operation["security"] == [{"tillBasic": []}]
    schemas = document["components"]["schemas"]

    def schema_of(node: dict[str, Any]) -> dict[str, Any]:
        ref = node["content"]["application/json"]["schema"]["$ref"]
        return dict(schemas[ref.rsplit("/", 1)[-1]])

    request = schema_of(operation["requestBody"])
    assert set(request["properties"]) == {"store_id", "original_reference", "reference"}
    assert set(request["required"]) == {"store_id", "original_reference", "reference"}
    answer = schema_of(operation["responses"]["201"])
    assert set(answer["properties"]) == VOID_FIELDS
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    for status in ("401", "403", "409", "413", "422", "429", "503"):
        assert "application/problem+json" in operation["responses"][status]["content"], status
