"""Reverse (POST /v1/vouchers/{code}/reverse): undo one earlier sale, top-up or
redemption of this voucher, whole."""

from __future__ import annotations

import uuid

from harness.factories import Merchant
from tests.ledger.till.contract import (
    MOVEMENT_FIELDS,
    assert_ledger,
    created,
    ok,
    problem,
)


def test_reversing_a_redemption_puts_the_money_back(merchant: Merchant) -> None:
    code = merchant.sold_code(5000)
    redemption = created(merchant.redeem(code, 1800))
    body = created(merchant.reverse(code, redemption["transaction_id"]))
    assert body.keys() == MOVEMENT_FIELDS | {"reversed_transaction_id"}
    assert body["reversed_transaction_id"] == redemption["transaction_id"]
    assert body["transaction_id"] not in (redemption["transaction_id"], "")
    assert (body["amount"], body["balance"], body["currency"]) == (1800, 5000, "GBP")
    assert ok(merchant.balance(code))["balance"] == 5000
    kinds = ["sale", "redemption", "reversal"]
    entries = assert_ledger(merchant, code, balance=5000, kinds=kinds)
    assert entries[2]["amount"] == 1800
    assert entries[2]["transaction_id"] == body["transaction_id"]
    assert entries[2]["reverses_transaction_id"] == redemption["transaction_id"]

    # A reversal itself cannot be reversed.
    problem(merchant.reverse(code, body["transaction_id"]), 409, "not_reversible")
    assert_ledger(merchant, code, balance=5000, kinds=kinds)


def test_reversing_a_load_takes_it_off_while_the_balance_holds_it(merchant: Merchant) -> None:
    code = merchant.sold_code(1000)
    load = created(merchant.load(code, 3000))
    body = created(merchant.reverse(code, load["transaction_id"]))
    assert (body["amount"], body["balance"]) == (3000, 1000)
    assert body["reversed_transaction_id"] == load["transaction_id"]
    entries = assert_ledger(merchant, code, balance=1000, kinds=["sale", "load", "reversal"])
    assert entries[2]["amount"] == -3000
    problem(merchant.reverse(code, body["transaction_id"]), 409, "not_reversible")

    # A top-up that has been (partly) spent cannot come off again.
    spent_load = created(merchant.load(code, 3000))
    created(merchant.redeem(code, 2500))  # 1500 left
    refusal = problem(
        merchant.reverse(code, spent_load["transaction_id"]), 409, "insufficient_funds"
    )
    assert refusal["balance"] == 1500
    kinds = ["sale", "load", "reversal", "load", "redemption"]
    assert_ledger(merchant, code, balance=1500, kinds=kinds)
    # Once the voucher holds it again, it can.
    created(merchant.load(code, 1500))
    body = created(merchant.reverse(code, spent_load["transaction_id"]))
    assert (body["amount"], body["balance"]) == (3000, 0)
    assert_ledger(merchant, code, balance=0, kinds=[*kinds, "load", "reversal"])


def test_reversing_a_sale_cancels_the_voucher_once_nothing_else_stands(
    merchant: Merchant,
) -> None:
    sale = created(merchant.sell(5000))
    code = sale["code"]
    redemption = created(merchant.redeem(code, 2000))
    load = created(merchant.load(code, 700))
    # A refused redemption moves nothing and does not stand in the way.
    problem(merchant.redeem(code, 999_999), 409, "insufficient_funds")

    problem(merchant.reverse(code, sale["transaction_id"]), 409, "voucher_in_use")
    created(merchant.reverse(code, redemption["transaction_id"]))
    problem(merchant.reverse(code, sale["transaction_id"]), 409, "voucher_in_use")
    created(merchant.reverse(code, load["transaction_id"]))
    assert ok(merchant.balance(code))["balance"] == 5000

    body = created(merchant.reverse(code, sale["transaction_id"]))
    assert body["reversed_transaction_id"] == sale["transaction_id"]
    assert (body["amount"], body["balance"], body["currency"]) == (5000, 0, "GBP")
    state = ok(merchant.balance(code))
    assert (state["status"], state["balance"]) == ("cancelled", 0)
    kinds = ["sale", "redemption", "load", "reversal", "reversal", "reversal"]
    entries = assert_ledger(merchant, code, balance=0, kinds=kinds)
    assert entries[-1]["amount"] == -5000
    assert entries[-1]["reverses_transaction_id"] == sale["transaction_id"]

    # A spent voucher: its sale reverses once the redemption that spent it is undone.
    spent = created(merchant.sell(2000))
    redemption = created(merchant.redeem(spent["code"], 2000))
    problem(merchant.reverse(spent["code"], spent["transaction_id"]), 409, "voucher_in_use")
    created(merchant.reverse(spent["code"], redemption["transaction_id"]))
    body = created(merchant.reverse(spent["code"], spent["transaction_id"]))
    assert (body["amount"], body["balance"]) == (2000, 0)
    assert ok(merchant.balance(spent["code"]))["status"] == "cancelled"


def test_only_this_vouchers_transactions_and_only_once(merchant: Merchant, other: Merchant) -> None:
    code = merchant.sold_code(5000)
    sibling = created(merchant.sell(1000))  # same account, another voucher
    theirs = created(other.sell(1000))
    own_sale = merchant.ledger_of(code)["entries"][0]["transaction_id"]
    for transaction_id in (
        str(uuid.uuid4()),
        "not-a-transaction",
        sibling["transaction_id"],
        theirs["transaction_id"],
    ):
        problem(merchant.reverse(code, transaction_id), 404, "transaction_not_found")
    # And the other way round: our sale is not a transaction of their voucher.
    problem(other.reverse(theirs["code"], own_sale), 404, "transaction_not_found")
    assert_ledger(merchant, sibling["code"], balance=1000, kinds=["sale"])
    assert_ledger(other, theirs["code"], balance=1000, kinds=["sale"])

    # Reversed once; under another reference (each call here makes a fresh one) it is
    # already reversed.
    redemption = created(merchant.redeem(code, 1000))
    created(merchant.reverse(code, redemption["transaction_id"]))
    for _ in range(2):
        problem(merchant.reverse(code, redemption["transaction_id"]), 409, "already_reversed")
    assert_ledger(merchant, code, balance=5000, kinds=["sale", "redemption", "reversal"])
    # The sale too: cancelled once.
    created(merchant.reverse(code, own_sale))
    problem(merchant.reverse(code, own_sale), 409, "already_reversed")
    assert ok(merchant.balance(code))["status"] == "cancelled"
    assert_ledger(merchant, code, balance=0, kinds=["sale", "redemption", "reversal", "reversal"])
