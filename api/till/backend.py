"""A till call's work on the database, the same answers on PostgreSQL and SQLite.

``TillBackend`` holds what the two databases share: the reads (a credential for the
gate, a balance check, a statement, the throttle) as one statement each, run through
the database's own driver, and the answers built from them by the rules in
api/vouchers/service.py. How a read reaches the database, how a failed look-up is
counted and how the writes run are each database's own (postgres.PostgresTill,
sqlite.SqliteTill).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from api.core.config import Settings
from api.core.errors import LedgerError, VoucherNotFound
from api.core.types import utcnow
from api.reversals.schemas import VoidRequest
from api.throttle.service import check as throttle_check
from api.throttle.service import window_start
from api.till.answers import TillAnswer, answer, refusal
from api.till.authentication import StoredCredential
from api.till.caller import TillCaller, TillIdentity, caller_from_row
from api.till.statements import Prepared, TillStatements
from api.vouchers import service
from api.vouchers.repository import VoucherView
from api.vouchers.schemas import LoadRequest, RedeemRequest, ReverseRequest, SellRequest

Row = Mapping[str, Any]


class StatementFailed(Exception):
    """A till statement the database refused (not one it could not be reached for):
    the driver's error with the statement's SQL, never its parameters (a card number),
    as SQLAlchemy reports one, for the error log."""

    def __init__(self, error: Exception, sql: str) -> None:
        super().__init__(f"({type(error).__name__}) {error}\n[SQL: {sql}]")


class TillBackend(ABC):
    def __init__(self, settings: Settings, statements: TillStatements) -> None:
        self.settings = settings
        self.statements = statements

    # --- Each database's own ----------------------------------------------------------

    @abstractmethod
    async def fetch_one(self, prepared: Prepared, values: Mapping[str, Any]) -> Row | None:
        """The first row of a read (503 unavailable when the database cannot be reached)."""

    @abstractmethod
    async def fetch_all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]: ...

    @abstractmethod
    async def count_failure(self, user_id: int, now: datetime) -> datetime | None:
        """Count a failed look-up, atomically; see throttle.repository.count_failure."""

    @abstractmethod
    async def store_digest(self, user_id: int, old: str, new: str) -> None:
        """Replace a user's argon2 hash with its digest, unless it changed meanwhile."""

    @abstractmethod
    async def note_store_use(self, user_id: int, store_id: str, now: datetime) -> None:
        """Record that the user called from ``store_id`` (a store of its account) at
        ``now``, unless a first use there is recorded already (api.till.store_uses).
        Waits at most ``store_use_note_timeout_seconds`` for the database; raises when
        it could not be written."""

    @abstractmethod
    async def sell(self, identity: TillIdentity, request: SellRequest) -> TillAnswer: ...

    @abstractmethod
    async def redeem(
        self, identity: TillIdentity, code: str, request: RedeemRequest
    ) -> TillAnswer: ...

    @abstractmethod
    async def load(self, identity: TillIdentity, code: str, request: LoadRequest) -> TillAnswer: ...

    @abstractmethod
    async def reverse(
        self, identity: TillIdentity, code: str, request: ReverseRequest
    ) -> TillAnswer: ...

    @abstractmethod
    async def void(self, identity: TillIdentity, request: VoidRequest) -> TillAnswer: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def trace_statements(self, callback: Callable[[str], None]) -> AbstractContextManager[None]:
        """While the block runs, ``callback`` gets the SQL of every statement the till
        path sends (for tests and diagnosis; parameters are not given)."""

    # --- The same on both -------------------------------------------------------------

    async def look_up_credential(self, username: str) -> StoredCredential | None:
        row = await self.fetch_one(self.statements.credential, {"username": username})
        return None if row is None else StoredCredential(row["user_id"], row["password_hash"])

    async def balance(self, identity: TillIdentity, store_id: str, code: str) -> TillAnswer:
        now = utcnow()
        try:
            caller, voucher = await self._caller_with_voucher(identity, store_id, code, now)
            return answer(200, service.check_balance(caller, voucher))
        except VoucherNotFound:
            return await self.voucher_not_found(identity.user_id, now)
        except LedgerError as error:
            return refusal(error)

    async def statement(
        self, identity: TillIdentity, store_id: str, code: str, before: str | None
    ) -> TillAnswer:
        """The voucher's newest transactions: checked and throttled as a balance check,
        then one more read for the entries."""
        now = utcnow()
        try:
            caller, found = await self._caller_with_voucher(identity, store_id, code, now)
            voucher = service.readable_voucher(caller, found)
            prepared = self.statements.statement_before if before else self.statements.statement
            rows = await self.fetch_all(prepared, {"voucher_id": voucher.id, "before": before})
            return answer(200, service.statement_out(voucher, rows))
        except VoucherNotFound:
            return await self.voucher_not_found(identity.user_id, now)
        except LedgerError as error:
            return refusal(error)

    async def throttled(self, identity: TillIdentity) -> TillAnswer | None:
        """The refusal the contract puts before a request's shape is looked at (a revoked
        credential's 401, the throttle's 429), if any: for requests refused before
        their route runs (422, 413)."""
        now = utcnow()
        try:
            row = await self.fetch_one(
                self.statements.caller, self.caller_values(identity, None, now)
            )
            caller_from_row(row, identity, None, self.settings, now)
        except LedgerError as error:
            return refusal(error)
        return None

    async def voucher_not_found(self, user_id: int, now: datetime) -> TillAnswer:
        """404 voucher_not_found, counted by the throttle; or 429 when parallel look-ups
        used the credential's allowance up first (so no timing of requests gets more
        than the allowance of 404s)."""
        try:
            throttling_failure_at = await self.count_failure(user_id, now)
            throttle_check(self.settings, throttling_failure_at, now)
        except LedgerError as error:
            return refusal(error)
        return refusal(VoucherNotFound("No voucher with this code."))

    def caller_values(
        self, identity: TillIdentity, store_id: str | None, now: datetime
    ) -> dict[str, Any]:
        """The parameters of ``statements.CALLER`` (and ``CALLER_AND_VOUCHER``)."""
        return {
            "user_id": identity.user_id,
            "store_id": store_id,
            "failures_since": window_start(self.settings, now),
            "failure_offset": self.settings.throttle_max_failures - 1,
        }

    async def _caller_with_voucher(
        self, identity: TillIdentity, store_id: str, code: str, now: datetime
    ) -> tuple[TillCaller, VoucherView | None]:
        values = self.caller_values(identity, store_id, now)
        values["voucher_code"] = service.lookup_code(code)
        row = await self.fetch_one(self.statements.caller_and_voucher, values)
        caller = caller_from_row(row, identity, store_id, self.settings, now)
        assert row is not None  # caller_from_row refuses a missing user
        return caller, _voucher(row)


def _voucher(row: Row) -> VoucherView | None:
    if row["voucher_id"] is None:
        return None
    return VoucherView(
        id=row["voucher_id"],
        code=row["voucher_code"],
        balance=row["voucher_balance"],
        currency=row["voucher_currency"],
        expires_at=row["voucher_expires_at"],
        cancelled_at=row["voucher_cancelled_at"],
    )
