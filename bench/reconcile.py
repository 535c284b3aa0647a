"""After the load: prove that no pence were lost or doubled.

The ledger's own check (``GET /admin/reconciliation``: every balance equals the sum of
its entries) and the benchmark's: across each phase, the change in all balances equals
the successful calls times the amount, and equals the phase's ledger entries.

A load generator stops with up to one request per connection still in flight; the
ledger finishes those (and would answer a till's retry of them from its idempotency
record), so "successful" is the ledger's record of 201 answers to the phase's
references, which must lie between what the client saw and that plus the connections.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, func, select

from api.idempotency.models import IdempotencyRecord
from api.vouchers.models import LedgerEntry, Voucher

# The sign of the money each kind of call moves onto vouchers.
DIRECTION = {"balance": 0, "redeem": -1, "sell": 1}


@dataclass(frozen=True)
class Snapshot:
    vouchers: int
    balance: int


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as connection:
        count, balance = connection.execute(
            select(func.count(), func.coalesce(func.sum(Voucher.balance), 0))
        ).one()
    return Snapshot(int(count), int(balance))


@dataclass(frozen=True)
class PhaseAccount:
    kind: str
    answered: int  # success answers the load generator received
    recorded: int  # success answers the ledger recorded for the phase's references
    entries: int  # ledger entries the phase wrote
    entries_total: int  # their signed pence
    balance_change: int  # change in the sum of all balances across the phase
    expected_change: int  # recorded successes times the amount, signed
    new_vouchers: int
    in_flight_allowance: int

    @property
    def clean(self) -> bool:
        expected_vouchers = self.recorded if self.kind == "sell" else 0
        return (
            self.balance_change == self.expected_change == self.entries_total
            and self.entries == (self.recorded if self.kind != "balance" else 0)
            and self.new_vouchers == expected_vouchers
            and (
                self.kind == "balance"
                or self.answered <= self.recorded <= self.answered + self.in_flight_allowance
            )
        )


def account_phase(
    engine: Engine,
    *,
    kind: str,
    reference_prefix: str,
    amount: int,
    before: Snapshot,
    after: Snapshot,
    answered: int,
    connections: int,
) -> PhaseAccount:
    pattern = f"{reference_prefix}-%"
    with engine.connect() as connection:
        recorded = connection.scalar(
            select(func.count()).where(
                IdempotencyRecord.reference.like(pattern), IdempotencyRecord.status_code == 201
            )
        )
        entries, total = connection.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.reference.like(pattern)
            )
        ).one()
    recorded = int(recorded or 0)
    return PhaseAccount(
        kind=kind,
        answered=answered if kind != "balance" else 0,
        recorded=recorded,
        entries=int(entries),
        entries_total=int(total),
        balance_change=after.balance - before.balance,
        expected_change=DIRECTION[kind] * recorded * amount,
        new_vouchers=after.vouchers - before.vouchers,
        in_flight_allowance=connections,
    )


@dataclass(frozen=True)
class LedgerReconciliation:
    vouchers_checked: int
    balanced: bool
    mismatches: int


def ledger_reconciliation(url: str, admin_token: str) -> LedgerReconciliation:
    response = httpx.get(
        f"{url}/admin/reconciliation",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=300,
    )
    response.raise_for_status()
    body = response.json()
    return LedgerReconciliation(
        vouchers_checked=int(body["vouchers_checked"]),
        balanced=bool(body["balanced"]),
        mismatches=len(body["mismatches"]),
    )
