"""Admin API: a voucher's ledger, and reconciliation of balances against entries."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, select, update

from api.core.config import Settings
from api.vouchers.cards import luhn_check_digit
from api.vouchers.models import Voucher
from harness.factories import Merchant
from tests.ledger.admin.support import created, ok, problem


def test_voucher_ledger_lists_every_signed_entry(merchant: Merchant) -> None:
    sale = created(merchant.sell(5000))
    code = sale["code"]
    redemption = created(merchant.redeem(code, 1200))
    load = created(merchant.load(code, 300))
    reversal = created(merchant.reverse(code, redemption["transaction_id"]))
    assert reversal["balance"] == 5300

    book = merchant.ledger_of(code)
    assert book["code"] == code
    assert book["account_id"] == merchant.account_id
    assert book["product_id"] == merchant.product_id
    assert (book["balance"], book["currency"], book["status"]) == (5300, "GBP", "active")
    entries = book["entries"]
    assert [(e["kind"], e["amount"], e["reverses_transaction_id"]) for e in entries] == [
        ("sale", 5000, None),
        ("redemption", -1200, None),
        ("load", 300, None),
        ("reversal", 1200, redemption["transaction_id"]),
    ]
    assert [e["transaction_id"] for e in entries] == [
        sale["transaction_id"],
        redemption["transaction_id"],
        load["transaction_id"],
        reversal["transaction_id"],
    ]
    assert {e["site_id"] for e in entries} == {merchant.site_ids[0]}
    assert len({e["reference"] for e in entries}) == 4
    assert book["entries_total"] == sum(e["amount"] for e in entries) == book["balance"]

    # The code as a till might type it reads the same ledger.
    spaced = " ".join(code[i : i + 4] for i in range(0, len(code), 4))
    assert merchant.ledger_of(spaced) == book

    # A reversed sale cancels the voucher: the entries still add up to its balance.
    other = created(merchant.sell(2500))
    created(merchant.reverse(other["code"], other["transaction_id"]))
    book = merchant.ledger_of(other["code"])
    assert (book["balance"], book["status"], book["entries_total"]) == (0, "cancelled", 0)
    assert [(e["kind"], e["amount"], e["reverses_transaction_id"]) for e in book["entries"]] == [
        ("sale", 2500, None),
        ("reversal", -2500, other["transaction_id"]),
    ]


def test_unknown_voucher_has_no_ledger(admin: httpx.Client, merchant: Merchant) -> None:
    code = merchant.sold_code()
    body = code[:-2] + str((int(code[-2]) + 1) % 10)
    never_sold = body + luhn_check_digit(body)
    bad_check_digit = code[:-1] + str((int(code[-1]) + 1) % 10)
    for wrong in (never_sold, bad_check_digit, "63011900", "not-a-card"):
        problem(admin.get(f"/admin/vouchers/{wrong}/ledger"), 404, "voucher_not_found")


def test_reconciliation_reports_a_balance_that_disagrees_with_its_entries(
    admin: httpx.Client, merchant: Merchant, settings: Settings
) -> None:
    assert ok(admin.get("/admin/reconciliation")) == {
        "vouchers_checked": 0,
        "balanced": True,
        "mismatches": [],
    }
    good = merchant.sold_code(1000)
    bad = merchant.sold_code(5000)
    created(merchant.redeem(bad, 1500))
    created(merchant.redeem(good, 1000))
    assert ok(admin.get("/admin/reconciliation")) == {
        "vouchers_checked": 2,
        "balanced": True,
        "mismatches": [],
    }

    # Someone changes a balance behind the ledger's back.
    engine = create_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            voucher_id = connection.scalar(select(Voucher.id).where(Voucher.code == bad))
            connection.execute(update(Voucher).where(Voucher.id == voucher_id).values(balance=9999))
    finally:
        engine.dispose()

    report = ok(admin.get("/admin/reconciliation"))
    assert report == {
        "vouchers_checked": 2,
        "balanced": False,
        "mismatches": [
            {"voucher_id": voucher_id, "code": bad, "balance": 9999, "entries_total": 3500}
        ],
    }
    assert merchant.ledger_of(bad)["entries_total"] == 3500
