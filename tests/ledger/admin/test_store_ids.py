"""Admin API: saving Polaris store IDs on sites, all or nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ledger.admin.support import new_account, new_site, ok, problem, sites_of


def store_ids_path(account_id: int) -> str:
    return f"/admin/accounts/{account_id}/store-ids"


def put_store_ids(
    admin: httpx.Client, account_id: int, *pairs: tuple[int, object]
) -> httpx.Response:
    assignments = [{"site_id": site_id, "store_id": store_id} for site_id, store_id in pairs]
    return admin.put(store_ids_path(account_id), json={"assignments": assignments})


def store_ids_of(admin: httpx.Client, account_id: int) -> dict[int, str | None]:
    return {site["id"]: site["store_id"] for site in sites_of(admin, account_id)}


@pytest.fixture
def account(admin: httpx.Client) -> dict[str, Any]:
    """An account with three sites, no store IDs yet."""
    account = new_account(admin)
    account["site_ids"] = [new_site(admin, account["id"], n)["id"] for n in (1, 2, 3)]
    return account


def test_store_ids_are_saved_in_one_call(admin: httpx.Client, account: dict[str, Any]) -> None:
    a, b, c = account["site_ids"]
    saved = ok(put_store_ids(admin, account["id"], (a, "PLS-001"), (b, " PLS-002 ")))
    # The answer is every site of the account, as now stored.
    assert [(s["id"], s["store_id"]) for s in saved] == [(a, "PLS-001"), (b, "PLS-002"), (c, None)]
    assert saved == sites_of(admin, account["id"])

    # Saving again later touches only the sites named.
    ok(put_store_ids(admin, account["id"], (c, "PLS-003"), (a, "PLS-001")))
    assert store_ids_of(admin, account["id"]) == {a: "PLS-001", b: "PLS-002", c: "PLS-003"}


def test_swapping_two_sites_store_ids_in_one_call(
    admin: httpx.Client, account: dict[str, Any]
) -> None:
    a, b, c = account["site_ids"]
    ok(put_store_ids(admin, account["id"], (a, "PLS-A"), (b, "PLS-B"), (c, "PLS-C")))
    ok(put_store_ids(admin, account["id"], (a, "PLS-B"), (b, "PLS-A")))
    assert store_ids_of(admin, account["id"]) == {a: "PLS-B", b: "PLS-A", c: "PLS-C"}

    # A three-way rotation, and moving a store ID to a site whose old one is freed.
    ok(put_store_ids(admin, account["id"], (a, "PLS-C"), (b, "PLS-B"), (c, "PLS-A")))
    assert store_ids_of(admin, account["id"]) == {a: "PLS-C", b: "PLS-B", c: "PLS-A"}
    ok(put_store_ids(admin, account["id"], (a, "PLS-NEW"), (b, "PLS-C")))
    assert store_ids_of(admin, account["id"]) == {a: "PLS-NEW", b: "PLS-C", c: "PLS-A"}


def test_the_same_store_id_may_serve_two_accounts(admin: httpx.Client) -> None:
    one, two = new_account(admin)["id"], new_account(admin)["id"]
    site_one, site_two = new_site(admin, one, 1)["id"], new_site(admin, two, 1)["id"]
    ok(put_store_ids(admin, one, (site_one, "PLS-1")))
    ok(put_store_ids(admin, two, (site_two, "PLS-1")))
    assert store_ids_of(admin, one) == {site_one: "PLS-1"}
    assert store_ids_of(admin, two) == {site_two: "PLS-1"}


def test_failures_save_nothing(admin: httpx.Client, account: dict[str, Any]) -> None:
    a, b, c = account["site_ids"]
    ok(put_store_ids(admin, account["id"], (a, "PLS-A")))
    other = new_account(admin)["id"]
    foreign_site = new_site(admin, other, 1)["id"]
    ok(put_store_ids(admin, other, (foreign_site, "PLS-F")))
    before = store_ids_of(admin, account["id"])
    foreign_before = store_ids_of(admin, other)

    # Each call pairs a change that alone would succeed with the one that fails.
    unknown = problem(
        put_store_ids(admin, account["id"], (b, "PLS-B"), (987654, "PLS-X")),
        404,
        "site_not_found",
    )
    assert unknown["site_ids"] == [987654]

    foreign = problem(
        put_store_ids(admin, account["id"], (b, "PLS-B"), (foreign_site, "PLS-X")),
        404,
        "site_not_found",
    )
    assert foreign["site_ids"] == [foreign_site]

    twice = problem(
        put_store_ids(admin, account["id"], (b, "PLS-B"), (c, "PLS-C1"), (c, "PLS-C2")),
        422,
        "invalid_request",
    )
    assert twice["site_ids"] == [c]

    duplicate = problem(
        put_store_ids(admin, account["id"], (b, "PLS-DUP"), (c, "PLS-DUP")),
        409,
        "duplicate_store_id",
    )
    assert duplicate["store_ids"] == ["PLS-DUP"]

    in_use = problem(
        put_store_ids(admin, account["id"], (c, "PLS-C"), (b, "PLS-A")),
        409,
        "store_id_in_use",
    )
    assert in_use["store_ids"] == ["PLS-A"]
    assert str(a) in in_use["detail"]

    assert store_ids_of(admin, account["id"]) == before == {a: "PLS-A", b: None, c: None}
    assert store_ids_of(admin, other) == foreign_before


def test_malformed_store_id_requests(admin: httpx.Client, account: dict[str, Any]) -> None:
    a, b, _ = account["site_ids"]
    for bad in ({}, {"assignments": []}, {"assignments": "PLS-1"}, [{"site_id": a}]):
        problem(admin.put(store_ids_path(account["id"]), json=bad), 422, "invalid_request")
    for store_id in ("", "   ", "x" * 65, "PLS\n1", "PLS-é", 17, None):
        response = put_store_ids(admin, account["id"], (a, "PLS-A"), (b, store_id))
        problem(response, 422, "invalid_request")
    problem(put_store_ids(admin, account["id"], (0, "PLS-A")), 422, "invalid_request")
    assert set(store_ids_of(admin, account["id"]).values()) == {None}
