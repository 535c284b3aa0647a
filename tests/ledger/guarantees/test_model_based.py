"""Model-based test of the till API: random sequences of sells, redemptions (whole and
partial), top-ups, reversals, balance checks, retries and reused references, over real
HTTP, each answer compared with a small Python model of the contract (till-api.md).

After every step, each voucher the step touched is checked against the model: its
balance and status on the admin ledger, and the sum of its ledger entries, equal the
model's (and the till's own answers are compared as they come); at the end of each
example, every voucher of it is. The merchant has a balance cap, so that
balance_limit_exceeded comes up too. One server and merchant per backend; each example
sells its own fresh vouchers, under references of its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness.factories import Merchant, make_merchant
from harness.ledger_app import LedgerServer

CAP = 10_000
MAX_VOUCHERS = 3  # few vouchers, long histories: more states per voucher
AMOUNTS = st.integers(min_value=1, max_value=6_000)


@dataclass
class Transaction:
    transaction_id: str
    code: str
    kind: str  # sale, load, redemption, reversal
    amount: int  # what the till was told was moved (positive)
    reversed: bool = False


@dataclass
class ModelVoucher:
    code: str
    balance: int
    cancelled: bool = False
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        return "spent" if self.balance == 0 else "active"


@dataclass(frozen=True)
class Sent:
    """A POST as it was sent, and the answer it got: what a till retry repeats."""

    path: str
    body: dict[str, Any]
    status: int
    content: bytes


@dataclass(frozen=True)
class Expected:
    status: int
    code: str | None = None  # the problem's code, for errors
    fields: dict[str, Any] = field(default_factory=dict)  # members the body must have


def refusal(code: str, **fields: Any) -> Expected:
    return Expected(409, code, fields)


class TillModel(RuleBasedStateMachine):
    """Bound to one merchant (with a balance cap) by subclassing, in the test below."""

    merchant: Merchant

    vouchers = Bundle("vouchers")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, ModelVoucher] = {}
        self.sent: list[Sent] = []
        self.touched: set[str] = set()
        self.run = uuid.uuid4().hex[:8]
        self.counter = 0

    # -- plumbing ---------------------------------------------------------------------

    def reference(self) -> str:
        self.counter += 1
        return f"m-{self.run}-{self.counter}"

    def post(self, path: str, body: dict[str, Any], expected: Expected) -> tuple[Sent, Any]:
        self.touch_path(path)
        response = self.merchant.till.post(path, json=body)
        event(f"{path.rsplit('/', 1)[-1]} {expected.status} {expected.code or ''}".strip())
        check(response, expected)
        assert response.headers.get("Idempotent-Replayed") is None
        return Sent(path, body, response.status_code, response.content), response.json()

    # -- rules ------------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < MAX_VOUCHERS)
    @rule(target=vouchers, amount=AMOUNTS | st.integers(CAP - 10, CAP + 10))
    def sell(self, amount: int) -> Any:
        body = {
            "store_id": self.merchant.store,
            "product_id": self.merchant.product_id,
            "amount": amount,
            "reference": self.reference(),
        }
        if amount > CAP:
            expected = refusal("balance_limit_exceeded")
        else:
            expected = Expected(201, fields={"balance": amount, "status": "active"})
        record, answer = self.post("/v1/vouchers", body, expected)
        self.remember(record)
        if record.status != 201:
            return multiple()
        code = answer["code"]
        voucher = ModelVoucher(code=code, balance=amount)
        voucher.transactions.append(Transaction(answer["transaction_id"], code, "sale", amount))
        self.model[code] = voucher
        self.touched.add(code)
        return code

    @rule(
        code=vouchers,
        amount=AMOUNTS,
        allow_partial=st.sampled_from([None, False, True]),
    )
    def redeem(self, code: str, amount: int, allow_partial: bool | None) -> None:
        voucher = self.model[code]
        body: dict[str, Any] = {
            "store_id": self.merchant.store,
            "amount": amount,
            "reference": self.reference(),
        }
        if allow_partial is not None:
            body["allow_partial"] = allow_partial
        taken = min(amount, voucher.balance)
        if voucher.cancelled:
            expected = refusal("voucher_cancelled")
        elif voucher.balance == 0 or (taken < amount and not allow_partial):
            expected = refusal("insufficient_funds", balance=voucher.balance)
        else:
            expected = Expected(201, fields={"amount": taken, "balance": voucher.balance - taken})
        record, answer = self.post(f"/v1/vouchers/{code}/redeem", body, expected)
        self.remember(record)
        if record.status == 201:
            voucher.balance -= taken
            self.add_transaction(voucher, answer["transaction_id"], "redemption", taken)

    @rule(code=vouchers, amount=AMOUNTS)
    def load(self, code: str, amount: int) -> None:
        voucher = self.model[code]
        body = {"store_id": self.merchant.store, "amount": amount, "reference": self.reference()}
        if voucher.cancelled:
            expected = refusal("voucher_cancelled")
        elif voucher.balance + amount > CAP:
            expected = refusal("balance_limit_exceeded")
        else:
            expected = Expected(201, fields={"amount": amount, "balance": voucher.balance + amount})
        record, answer = self.post(f"/v1/vouchers/{code}/load", body, expected)
        self.remember(record)
        if record.status == 201:
            voucher.balance += amount
            self.add_transaction(voucher, answer["transaction_id"], "load", amount)

    @rule(code=vouchers, data=st.data())
    def reverse(self, code: str, data: st.DataObject) -> None:
        """Reverse one earlier transaction of any voucher of this run (so sometimes
        another voucher's, or a reversal, or one reversed already)."""
        voucher = self.model[code]
        everyone = [t for v in self.model.values() for t in v.transactions]
        own_first = st.sampled_from(voucher.transactions)
        if data.draw(st.integers(0, 4), label="someone else's") == 0:
            own_first = st.sampled_from(everyone)
        target: Transaction = data.draw(own_first, label="target")
        body = {
            "store_id": self.merchant.store,
            "transaction_id": target.transaction_id,
            "reference": self.reference(),
        }
        others_unreversed = any(
            t.kind in ("load", "redemption") and not t.reversed for t in voucher.transactions
        )
        delta = 0
        if target.code != code:
            expected = Expected(404, "transaction_not_found")
        elif target.kind == "reversal":
            expected = refusal("not_reversible")
        elif target.reversed:
            expected = refusal("already_reversed")
        elif target.kind == "load" and voucher.balance < target.amount:
            expected = refusal("insufficient_funds", balance=voucher.balance)
        elif target.kind == "sale" and others_unreversed:
            expected = refusal("voucher_in_use")
        else:
            delta = {"redemption": target.amount, "load": -target.amount}.get(
                target.kind, -voucher.balance
            )
            expected = Expected(
                201,
                fields={
                    "amount": target.amount,
                    "balance": voucher.balance + delta,
                    "reversed_transaction_id": target.transaction_id,
                },
            )
        record, answer = self.post(f"/v1/vouchers/{code}/reverse", body, expected)
        if record.status == 404:
            return  # refused before the ledger acted: no record, nothing to replay
        self.remember(record)
        if record.status == 201:
            voucher.balance += delta
            target.reversed = True
            voucher.cancelled = target.kind == "sale"
            self.add_transaction(voucher, answer["transaction_id"], "reversal", target.amount)

    @rule(code=vouchers)
    def check_balance(self, code: str) -> None:
        voucher = self.model[code]
        response = self.merchant.balance(code)
        check(
            response, Expected(200, fields={"balance": voucher.balance, "status": voucher.status})
        )
        assert response.json()["code"] == code

    @rule(code=vouchers)
    def check_balance_spelled_with_spaces(self, code: str) -> None:
        spaced = " ".join(code[i : i + 4] for i in range(0, len(code), 4))
        response = self.merchant.balance(spaced)
        check(response, Expected(200, fields={"code": code, "balance": self.model[code].balance}))

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """A till retry: same reference, same body; the first answer comes back whole."""
        record: Sent = data.draw(st.sampled_from(self.sent), label="retried")
        self.touch(record)
        body = dict(record.body)
        # An omitted allow_partial equals false: a retry may spell it either way.
        if body.get("allow_partial") is False:
            del body["allow_partial"]
        elif record.path.endswith("/redeem") and "allow_partial" not in body:
            body["allow_partial"] = False
        response = self.merchant.till.post(record.path, json=body)
        assert response.status_code == record.status, response.text
        assert response.content == record.content
        assert response.headers.get("Idempotent-Replayed") == "true"

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def reuse_reference(self, data: st.DataObject) -> None:
        """The same reference with another body: 409 idempotency_conflict, nothing moves."""
        record: Sent = data.draw(st.sampled_from(self.sent), label="reused")
        self.touch(record)
        body = dict(record.body)
        if "amount" in body:
            body["amount"] += 1
        elif record.path.endswith("/reverse"):
            # Another transaction of the same voucher would be a different request;
            # so is the same one under a different operation on this reference.
            path = record.path.removesuffix("/reverse") + "/load"
            body = {"store_id": body["store_id"], "amount": 1, "reference": body["reference"]}
            response = self.merchant.till.post(path, json=body)
            check(response, Expected(409, "idempotency_conflict"))
            return
        response = self.merchant.till.post(record.path, json=body)
        check(response, Expected(409, "idempotency_conflict"))
        assert response.headers.get("Idempotent-Replayed") is None

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def ledger_matches_model(self) -> None:
        """After each step, the vouchers it touched; at the end, all of them."""
        self.check_ledgers(self.touched)
        self.touched.clear()

    def teardown(self) -> None:
        self.check_ledgers(set(self.model))

    def check_ledgers(self, codes: set[str]) -> None:
        for code in sorted(codes):
            voucher = self.model[code]
            ledger = self.merchant.ledger_of(code)
            assert ledger["balance"] == voucher.balance, (code, ledger)
            assert ledger["entries_total"] == voucher.balance, (code, ledger)
            assert sum(e["amount"] for e in ledger["entries"]) == voucher.balance
            assert ledger["status"] == voucher.status
            assert len(ledger["entries"]) == len(voucher.transactions)
            assert voucher.balance >= 0

    # -- helpers ----------------------------------------------------------------------

    def touch(self, record: Sent) -> None:
        """Mark the voucher a recorded request was about for the next ledger check."""
        self.touch_path(record.path)
        if record.path == "/v1/vouchers" and record.status == 201:
            self.touched.add(json.loads(record.content)["code"])

    def touch_path(self, path: str) -> None:
        if path != "/v1/vouchers":
            self.touched.add(path.split("/")[3])  # /v1/vouchers/{code}/...

    def remember(self, record: Sent) -> None:
        self.sent.append(record)

    def add_transaction(
        self, voucher: ModelVoucher, transaction_id: str, kind: str, amount: int
    ) -> None:
        voucher.transactions.append(Transaction(transaction_id, voucher.code, kind, amount))


def check(response: httpx.Response, expected: Expected) -> None:
    assert response.status_code == expected.status, (expected, response.status_code, response.text)
    body = response.json()
    if expected.code is not None:
        assert response.headers["content-type"] == "application/problem+json"
        assert body["code"] == expected.code, body
    for name, value in expected.fields.items():
        assert body[name] == value, (name, body)


def test_till_behaves_like_the_model(ledger: LedgerServer, admin: httpx.Client) -> None:
    merchant = make_merchant(ledger, admin, balance_cap=CAP)
    try:
        machine = type("BoundTillModel", (TillModel,), {"merchant": merchant})
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=25,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                database=None,
            ),
        )
    finally:
        merchant.close()
    report = admin.get("/admin/reconciliation").json()
    assert report["balanced"] is True, report
