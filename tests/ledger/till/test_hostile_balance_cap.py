"""The account's balance cap is a hard limit: a reversal may not break it either
(till-api.md, Reverse: 409 balance_limit_exceeded, nothing moved)."""

from __future__ import annotations

import httpx

from harness.factories import make_merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import assert_ledger, balance_of, created, problem

CAP = 10_000


def test_reversing_a_redemption_over_the_cap_is_refused(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    merchant = make_merchant(ledger, admin, balance_cap=CAP)
    try:
        sale = created(merchant.sell(CAP))
        code = sale["code"]
        redemption = created(merchant.redeem(code, 5_000))
        created(merchant.load(code, 5_000))

        reference = merchant.reference()
        refused = problem(
            merchant.reverse(code, redemption["transaction_id"], reference=reference),
            409,
            "balance_limit_exceeded",
        )
        assert "balance" not in refused or refused["balance"] is None
        assert balance_of(merchant, code) == CAP
        assert_ledger(merchant, code, balance=CAP, kinds=["sale", "redemption", "load"])
        # The refusal is the answer to that reference, as any business refusal is.
        again = merchant.reverse(code, redemption["transaction_id"], reference=reference)
        problem(again, 409, "balance_limit_exceeded")
        assert again.headers.get("Idempotent-Replayed") == "true"

        # Once the balance has room again, the same redemption can be reversed.
        created(merchant.redeem(code, 5_000))
        reversal = created(merchant.reverse(code, redemption["transaction_id"]))
        assert reversal["balance"] == CAP
        assert_ledger(
            merchant,
            code,
            balance=CAP,
            kinds=["sale", "redemption", "load", "redemption", "reversal"],
        )
    finally:
        merchant.close()


def test_reversing_a_redemption_up_to_the_cap_is_allowed(
    ledger: LedgerServer, admin: httpx.Client
) -> None:
    merchant = make_merchant(ledger, admin, balance_cap=CAP)
    try:
        code = created(merchant.sell(CAP))["code"]
        redemption = created(merchant.redeem(code, 4_000))
        created(merchant.load(code, 1_000))
        created(merchant.redeem(code, 1_000))
        # Back to exactly the cap: allowed.
        reversal = created(merchant.reverse(code, redemption["transaction_id"]))
        assert reversal["balance"] == CAP
        assert_ledger(
            merchant,
            code,
            balance=CAP,
            kinds=["sale", "redemption", "load", "redemption", "reversal"],
        )
    finally:
        merchant.close()
