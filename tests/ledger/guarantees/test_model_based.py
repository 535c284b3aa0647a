"""Model-based test of the till API: random sequences of sells, redemptions (whole and
partial), top-ups, reversals, voids by reference (of references the ledger has and of
ones it never received, and the late originals of those), balance checks, statements,
retries and reused references, over real HTTP, each answer compared with a small Python
model of the contract (till-api.md).

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
    signed: int  # what it moved on the voucher (a redemption is negative)
    reference: str
    reversed_by: str | None = None

    @property
    def reversed(self) -> bool:
        return self.reversed_by is not None


# What the ledger holds under a till reference (besides a Transaction it made):
REFUSED = "refused"  # a recorded 409: nothing moved
VOIDED = "voided"  # voided before the ledger received it
VOID_OF_NOTHING = "void of nothing"  # a void's own reference, when it undid nothing


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
        self.references: dict[str, Transaction | str] = {}
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
        self.model[code] = voucher
        self.add_transaction(voucher, answer["transaction_id"], "sale", amount, amount, body)
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
            self.add_transaction(
                voucher, answer["transaction_id"], "redemption", taken, -taken, body
            )

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
            self.add_transaction(voucher, answer["transaction_id"], "load", amount, amount, body)

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
        if target.code != code:
            expected, delta = Expected(404, "transaction_not_found"), 0
        else:
            expected, delta = reversal_of(voucher, target)
        record, answer = self.post(f"/v1/vouchers/{code}/reverse", body, expected)
        if record.status == 404:
            return  # refused before the ledger acted: no record, nothing to replay
        self.remember(record)
        if record.status == 201:
            self.apply_reversal(voucher, target, delta, answer["transaction_id"], body)

    @rule(data=st.data())
    def void_by_reference(self, data: st.DataObject) -> None:
        """Void by the till's own reference: one the ledger holds (a movement, a
        reversal, a refusal, a void), or one it never received."""
        known = sorted(self.references)
        movements = [
            r
            for r, held in sorted(self.references.items())
            if isinstance(held, Transaction) and held.kind != "reversal"
        ]
        choice = data.draw(st.integers(0, 3), label="which reference")
        if choice >= 2 and movements:
            original = data.draw(st.sampled_from(movements), label="a movement's reference")
        elif choice >= 1 and known:
            original = data.draw(st.sampled_from(known), label="a known reference")
        else:
            original = self.reference()  # never received
        held = self.references.get(original)
        body = {
            "store_id": self.merchant.store,
            "original_reference": original,
            "reference": self.reference(),
        }
        nothing = {"reversed_transaction_id": None, "code": None, "amount": 0, "balance": None}
        target: Transaction | None = None
        delta = 0
        if held is None or held == REFUSED:
            expected = Expected(201, fields=nothing)
        elif held == VOIDED:
            expected = refusal("already_reversed")
        elif held == VOID_OF_NOTHING:
            expected = refusal("not_reversible")
        else:
            assert isinstance(held, Transaction)
            target = held
            expected, delta = reversal_of(self.model[held.code], held)
            if expected.status == 201:
                expected.fields["code"] = held.code
            self.touched.add(held.code)
        record, answer = self.post("/v1/reversals", body, expected)
        self.remember(record)
        if record.status != 201:
            return
        if target is None:
            if held is None:
                self.references[original] = VOIDED
            self.references[body["reference"]] = VOID_OF_NOTHING
        else:
            voucher = self.model[target.code]
            self.apply_reversal(voucher, target, delta, answer["transaction_id"], body)

    @precondition(lambda self: VOIDED in self.references.values())
    @rule(data=st.data(), amount=AMOUNTS)
    def late_original(self, data: st.DataObject, amount: int) -> None:
        """The till's queue sends a request whose reference it voided: whatever it is,
        409 transaction_voided, and nothing moves."""
        voided = sorted(r for r, held in self.references.items() if held == VOIDED)
        reference = data.draw(st.sampled_from(voided), label="voided reference")
        body: dict[str, Any] = {"store_id": self.merchant.store, "reference": reference}
        if self.model and data.draw(st.booleans(), label="on a voucher"):
            code = data.draw(st.sampled_from(sorted(self.model)), label="voucher")
            kind = data.draw(st.sampled_from(["redeem", "load"]), label="kind")
            path, body["amount"] = f"/v1/vouchers/{code}/{kind}", amount
        else:
            path = "/v1/vouchers"
            body.update(product_id=self.merchant.product_id, amount=amount)
        self.post(path, body, refusal("transaction_voided"))
        # Not remembered: its answer is the void's, and a retry gets the same again.

    @rule(code=vouchers)
    def statement(self, code: str) -> None:
        """The voucher's history, newest first, as the model has it."""
        voucher = self.model[code]
        response = self.merchant.till.get(
            f"/v1/vouchers/{code}/transactions", params={"store_id": self.merchant.store}
        )
        check(response, Expected(200, fields={"code": code, "balance": voucher.balance}))
        running, expected = 0, []
        for t in voucher.transactions:
            running += t.signed
            expected.append(
                (t.transaction_id, t.kind, t.signed, running, t.reference, t.reversed_by)
            )
        expected.reverse()
        got = [
            (
                t["transaction_id"],
                t["kind"],
                t["amount"],
                t["balance_after"],
                t["reference"],
                t["reversed_by"],
            )
            for t in response.json()["transactions"]
        ]
        assert got == expected[:100]
        assert {t["store_id"] for t in response.json()["transactions"]} == {self.merchant.store}

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
        elif record.path == "/v1/reversals":
            body["original_reference"] = self.reference()
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
        if record.path in ("/v1/vouchers", "/v1/reversals") and record.status == 201:
            code = json.loads(record.content)["code"]
            if code is not None:
                self.touched.add(code)

    def touch_path(self, path: str) -> None:
        if path.startswith("/v1/vouchers/"):
            self.touched.add(path.split("/")[3])  # /v1/vouchers/{code}/...

    def remember(self, record: Sent) -> None:
        """Keep a recorded answer for retries, and what its reference now holds."""
        self.sent.append(record)
        if record.status != 201:
            self.references[record.body["reference"]] = REFUSED

    def add_transaction(
        self,
        voucher: ModelVoucher,
        transaction_id: str,
        kind: str,
        amount: int,
        signed: int,
        body: dict[str, Any],
    ) -> None:
        transaction = Transaction(
            transaction_id, voucher.code, kind, amount, signed, body["reference"]
        )
        voucher.transactions.append(transaction)
        self.references[body["reference"]] = transaction
        self.touched.add(voucher.code)

    def apply_reversal(
        self,
        voucher: ModelVoucher,
        target: Transaction,
        delta: int,
        transaction_id: str,
        body: dict[str, Any],
    ) -> None:
        voucher.balance += delta
        target.reversed_by = transaction_id
        voucher.cancelled = target.kind == "sale"
        self.add_transaction(voucher, transaction_id, "reversal", target.amount, delta, body)


def reversal_of(voucher: ModelVoucher, target: Transaction) -> tuple[Expected, int]:
    """The answer to undoing ``target`` (a transaction of ``voucher``), and the change
    to the balance it makes: reverse's rules, which the void by reference shares."""
    others_unreversed = any(
        t.kind in ("load", "redemption") and not t.reversed for t in voucher.transactions
    )
    if target.kind == "reversal":
        return refusal("not_reversible"), 0
    if target.reversed:
        return refusal("already_reversed"), 0
    if target.kind == "load" and voucher.balance < target.amount:
        return refusal("insufficient_funds", balance=voucher.balance), 0
    if target.kind == "sale" and others_unreversed:
        return refusal("voucher_in_use"), 0
    delta = {"redemption": target.amount, "load": -target.amount}.get(target.kind, -voucher.balance)
    if voucher.balance + delta > CAP:
        return refusal("balance_limit_exceeded"), 0
    fields = {
        "amount": target.amount,
        "balance": voucher.balance + delta,
        "reversed_transaction_id": target.transaction_id,
    }
    return Expected(201, fields=fields), delta


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
