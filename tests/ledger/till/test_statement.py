"""Statement (GET /v1/vouchers/{code}/transactions, till-api.md "Statement"): a voucher's
history, newest first, at most 100, each movement with where it happened and the till
reference it carried."""

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
    PROBLEM_JSON,
    bad_check_digit,
    created,
    dashed,
    ok,
    parse_time,
    problem,
    spaced,
    unknown_code,
)

STATEMENT_FIELDS = {"code", "balance", "currency", "transactions"}
TRANSACTION_FIELDS = {
    "transaction_id",
    "kind",
    "amount",
    "balance_after",
    "store_id",
    "reference",
    "created_at",
    "reversed_by",
}


def statement(
    merchant: Merchant, code: str, store_id: str | None = None, **params: str
) -> httpx.Response:
    return merchant.till.get(
        f"/v1/vouchers/{code}/transactions",
        params={"store_id": store_id or merchant.store, **params},
    )


def read(response: httpx.Response) -> dict[str, Any]:
    """A statement's body, checked against the contract's shape."""
    body = ok(response)
    assert body.keys() == STATEMENT_FIELDS, body
    assert body["currency"] == "GBP"
    for transaction in body["transactions"]:
        assert transaction.keys() == TRANSACTION_FIELDS, transaction
        assert transaction["kind"] in ("sale", "redemption", "load", "reversal")
        for money in ("amount", "balance_after"):
            assert type(transaction[money]) is int, transaction
        parse_time(transaction["created_at"])
    return body


def test_a_vouchers_history_newest_first(merchant: Merchant) -> None:
    store_a, store_b = merchant.store_ids
    sale = created(merchant.sell(5000, reference="s-sale"))
    code = sale["code"]
    redemption = created(merchant.redeem(code, 1800, reference="s-redeem", store_id=store_b))
    load = created(merchant.load(code, 700, reference="s-load"))
    reversal = created(
        merchant.reverse(code, redemption["transaction_id"], reference="s-undo", store_id=store_b)
    )
    # Refusals move nothing and are not transactions.
    problem(merchant.redeem(code, 999_999), 409, "insufficient_funds")

    body = read(statement(merchant, code))
    assert (body["code"], body["balance"]) == (code, 5700)
    rows = [
        (t["transaction_id"], t["kind"], t["amount"], t["balance_after"], t["store_id"])
        for t in body["transactions"]
    ]
    assert rows == [
        (reversal["transaction_id"], "reversal", 1800, 5700, store_b),
        (load["transaction_id"], "load", 700, 3900, store_a),
        (redemption["transaction_id"], "redemption", -1800, 3200, store_b),
        (sale["transaction_id"], "sale", 5000, 5000, store_a),
    ]
    assert [t["reference"] for t in body["transactions"]] == [
        "s-undo",
        "s-load",
        "s-redeem",
        "s-sale",
    ]
    # reversed_by: the reversal's transaction_id, or null.
    assert [t["reversed_by"] for t in body["transactions"]] == [
        None,
        None,
        reversal["transaction_id"],
        None,
    ]
    times = [parse_time(t["created_at"]) for t in body["transactions"]]
    assert times == sorted(times, reverse=True)
    # The same history from every store of the account, and however the code is spelled.
    for spelling in (spaced(code), dashed(code)):
        assert read(statement(merchant, spelling, store_id=store_b)) == body


def test_a_cancelled_voucher_and_a_void_by_reference(merchant: Merchant) -> None:
    sale = created(merchant.sell(2000, reference="c-sale"))
    code = sale["code"]
    created(merchant.redeem(code, 2000, reference="c-spend"))
    undo = merchant.till.post(
        "/v1/reversals",
        json={"store_id": merchant.store, "original_reference": "c-spend", "reference": "c-void"},
    )
    assert undo.status_code == 201, undo.text
    cancel = created(merchant.reverse(code, sale["transaction_id"], reference="c-cancel"))

    body = read(statement(merchant, code))
    assert body["balance"] == 0
    transactions = body["transactions"]
    assert [(t["kind"], t["amount"], t["balance_after"], t["reference"]) for t in transactions] == [
        ("reversal", -2000, 0, "c-cancel"),
        ("reversal", 2000, 2000, "c-void"),
        ("redemption", -2000, 0, "c-spend"),
        ("sale", 2000, 2000, "c-sale"),
    ]
    assert transactions[0]["transaction_id"] == cancel["transaction_id"]
    assert transactions[1]["transaction_id"] == undo.json()["transaction_id"]
    assert transactions[2]["reversed_by"] == undo.json()["transaction_id"]
    assert transactions[3]["reversed_by"] == cancel["transaction_id"]


def test_store_id_is_the_store_the_till_named_even_after_a_swap(merchant: Merchant) -> None:
    (site_a, site_b), (store_a, store_b) = merchant.site_ids, merchant.store_ids
    code = merchant.sold_code(1000)
    created(merchant.redeem(code, 100, store_id=store_b))
    swapped = merchant.admin.put(
        f"/admin/accounts/{merchant.account_id}/store-ids",
        json={
            "assignments": [
                {"site_id": site_a, "store_id": store_b},
                {"site_id": site_b, "store_id": store_a},
            ]
        },
    )
    assert swapped.status_code == 200, swapped.text
    created(merchant.redeem(code, 100, store_id=store_b))

    stores = [t["store_id"] for t in read(statement(merchant, code))["transactions"]]
    assert stores == [store_b, store_b, store_a]
    # While the sites behind them are not the same; the admin ledger shows both.
    entries = merchant.ledger_of(code)["entries"]
    assert [(e["site_id"], e["store_id"]) for e in entries] == [
        (site_a, store_a),
        (site_b, store_b),
        (site_a, store_b),
    ]


def test_at_most_the_100_newest(merchant: Merchant) -> None:
    code = merchant.sold_code(1)
    loads = [created(merchant.load(code, 1, reference=f"load-{n}")) for n in range(104)]

    page = read(statement(merchant, code))
    transactions = page["transactions"]
    assert len(transactions) == 100
    assert page["balance"] == 105 == transactions[0]["balance_after"]
    expected = [load["transaction_id"] for load in reversed(loads)][:100]
    assert [t["transaction_id"] for t in transactions] == expected
    assert [t["balance_after"] for t in transactions] == list(range(105, 5, -1))

    # The ledger's own addition: the ones before a transaction, by its transaction_id.
    rest = read(statement(merchant, code, before=transactions[-1]["transaction_id"]))
    assert [t["reference"] for t in rest["transactions"]] == [
        "load-3",
        "load-2",
        "load-1",
        "load-0",
        merchant.ledger_of(code)["entries"][0]["reference"],
    ]
    assert [t["balance_after"] for t in rest["transactions"]] == [5, 4, 3, 2, 1]
    assert rest["balance"] == 105
    assert read(statement(merchant, code, before=str(uuid.uuid4())))["transactions"] == []


def test_unknown_codes_get_404_like_a_balance_check(merchant: Merchant, other: Merchant) -> None:
    code = merchant.sold_code(1000)
    theirs = other.sold_code(1000)
    for wrong in (unknown_code(), theirs, bad_check_digit(code), code[:-1], "hello"):
        problem(statement(merchant, wrong), 404, "voucher_not_found")
    # A store not of this account is refused first, whatever the code.
    for store in ("NOPE", other.store):
        problem(statement(merchant, code, store_id=store), 403, "unknown_store")
        problem(statement(merchant, unknown_code(), store_id=store), 403, "unknown_store")


def test_checks_in_order(merchant: Merchant, anonymous: httpx.Client) -> None:
    code = merchant.sold_code(1000)
    response = anonymous.get(f"/v1/vouchers/{code}/transactions", params={"store_id": "NOPE"})
    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="toggle"'
    problem(merchant.till.get(f"/v1/vouchers/{code}/transactions"), 422, "invalid_request")
    for params in ({"store_id": ""}, {"store_id": "x" * 65}, {"before": ""}):
        response = merchant.till.get(
            f"/v1/vouchers/{code}/transactions", params={"store_id": merchant.store, **params}
        )
        problem(response, 422, "invalid_request")
    # Shape before store.
    response = merchant.till.get(
        f"/v1/vouchers/{code}/transactions", params={"store_id": "NOPE", "before": ""}
    )
    problem(response, 422, "invalid_request")


@pytest.fixture
def strict_ledger(database_url: str) -> Iterator[LedgerServer]:
    """A ledger that throttles a credential after three failed look-ups."""
    with serve_ledger(make_settings(database_url, throttle_max_failures=3)) as server:
        yield server


def test_unknown_codes_count_towards_the_throttle(strict_ledger: LedgerServer) -> None:
    with httpx.Client(
        base_url=strict_ledger.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as admin:
        merchant = make_merchant(strict_ledger, admin)
        try:
            code = merchant.sold_code(1000)
            for _ in range(5):  # known codes never count
                read(statement(merchant, code))
            problem(statement(merchant, unknown_code()), 404, "voucher_not_found")
            problem(statement(merchant, "1234"), 404, "voucher_not_found")  # malformed too
            problem(merchant.balance(unknown_code()), 404, "voucher_not_found")
            # Three failures, statements' and a balance check's alike: closed to both.
            for response in (statement(merchant, code), merchant.balance(code)):
                problem(response, 429, "too_many_attempts")
                assert int(response.headers["Retry-After"]) >= 1
        finally:
            merchant.close()


def test_a_statement_is_one_query_and_writes_nothing(
    merchant: Merchant, ledger: LedgerServer
) -> None:
    """One statement for the entries, after the one every till call makes for its
    credential (and, for a voucher call, the voucher); no write."""
    code = merchant.sold_code(1000)
    for n in range(5):
        created(merchant.redeem(code, 10, reference=f"q-{n}"))
    read(statement(merchant, code))  # warm: the credential's first use may write
    ledger.settle()  # ... after its answer (api.till.store_uses)

    seen: list[str] = []

    def record(statement_text: str) -> None:
        seen.append(" ".join(statement_text.split()).upper())

    # Every statement the till path sends to the database, as its driver sends it.
    with ledger.app.state.till.backend.trace_statements(record):
        body = read(statement(merchant, code))
    assert len(body["transactions"]) == 6
    selects = [s for s in seen if s.startswith(("SELECT", "WITH"))]
    assert len(selects) == 2, seen
    assert "LEDGER_ENTRIES" in selects[1] and "LEDGER_ENTRIES" not in selects[0]
    assert not [s for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))], seen


def test_the_operation_is_in_the_openapi_document(anonymous: httpx.Client) -> None:
    document = anonymous.get("/openapi.json").json()
    operation = document["paths"]["/v1/vouchers/{code}/transactions"]["get"]
    assert operation["security"] == [{"tillBasic": []}]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["store_id"]["in"] == "query" and parameters["store_id"]["required"]
    assert parameters["code"]["in"] == "path"
    schemas = document["components"]["schemas"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    answer = schemas[ref.rsplit("/", 1)[-1]]
    assert set(answer["properties"]) == STATEMENT_FIELDS
    item_ref = answer["properties"]["transactions"]["items"]["$ref"]
    assert set(schemas[item_ref.rsplit("/", 1)[-1]]["properties"]) == TRANSACTION_FIELDS
    for status in ("401", "403", "404", "422", "429", "503"):
        assert PROBLEM_JSON in operation["responses"][status]["content"], status
