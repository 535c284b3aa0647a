"""The till path on SQLite (the embedded default): on the event loop, on one connection.

SQLite is a library, not a server: a read is a few microseconds of work in this
process, and a write transaction holds the database's one write lock for as long as
its statements take. So the till path runs both right on the event loop, with no
worker thread (a thread hop cost more than the read, in bench/), and each write
transaction runs from its ``BEGIN IMMEDIATE`` to its commit without giving the loop
up, so this process's till writes never wait for each other. Another writer (the
admin API's threads, another process) may hold the lock: then the connection's busy
timeout of 0 refuses at once, and the write is tried again from the loop after a short
pause, up to ``sqlite_busy_timeout_seconds`` (then 503 unavailable). The rules are the
Python ones (api/vouchers/service.py, api/reversals/service.py, api/idempotency), their
SQLAlchemy Core statements run on the sqlite3 connection itself (api.core.statements):
SQLAlchemy's execution layer cost four times what SQLite did per statement.

Checkpoints (copying the write-ahead log back into the database file) are the one slow
thing a commit can do: SQLite runs one in the committing connection every 1000 pages,
and on the loop it stopped every till for as long as it took (bench/: p99 in the
hundreds of milliseconds). So this connection never checkpoints; a thread of its own
does, every half second, without blocking anyone (``PASSIVE``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite import pysqlite

from api.core.config import Settings
from api.core.db import configure_sqlite, sqlite_path
from api.core.errors import LedgerError, Unavailable, VoucherNotFound
from api.core.statements import Prepared, Row, Statement
from api.core.types import utcnow
from api.credentials import repository as credentials
from api.idempotency.service import TillOutcome
from api.reversals import service as reversals
from api.reversals.schemas import VoidRequest
from api.throttle import repository as throttle
from api.throttle.service import window_start
from api.till.answers import TillAnswer, refusal
from api.till.backend import StatementFailed, TillBackend
from api.till.caller import TillCaller, TillIdentity, caller_from_row
from api.till.statements import CALLER, TillStatements
from api.vouchers import service as vouchers
from api.vouchers.schemas import LoadRequest, RedeemRequest, ReverseRequest, SellRequest

T = TypeVar("T")
Work = Callable[["SqliteStatements", TillCaller], TillOutcome]

_DIALECT = pysqlite.dialect()
# Pauses between tries for the write lock: short at first (another writer holds it for
# a millisecond or so), then at most this long.
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.01


class SqliteTill(TillBackend):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, TillStatements.for_dialect(_DIALECT))
        path = sqlite_path(settings)
        connection = sqlite3.connect(path, check_same_thread=False)
        configure_sqlite(connection, busy_timeout_seconds=0)
        connection.execute("PRAGMA wal_autocheckpoint=0")
        self._db = SqliteStatements(connection)
        self._checkpoints = _Checkpoints(path)

    async def close(self) -> None:
        self._checkpoints.stop()
        self._db.close()

    @contextmanager
    def trace_statements(self, callback: Callable[[str], None]) -> Iterator[None]:
        with self._db.traced(callback):
            yield

    # --- Reads ------------------------------------------------------------------------

    async def fetch_one(self, prepared: Prepared, values: Mapping[str, Any]) -> Row | None:
        rows = self._read(prepared, values)
        return rows[0] if rows else None

    async def fetch_all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        return self._read(prepared, values)

    def _read(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        try:
            return self._db.run_prepared(prepared, values)
        except sqlite3.OperationalError as error:
            # In WAL mode a read waits for nobody, but for a moment while the log is
            # being reset: too rare to wait for here.
            if not _is_busy(error):
                raise StatementFailed(error, prepared.sql) from error
            raise _busy() from None

    # --- Writes: one transaction each, holding SQLite's write lock --------------------

    async def count_failure(self, user_id: int, now: datetime) -> datetime | None:
        return await self._transaction(
            lambda db: throttle.count_failure(
                db,
                user_id,
                now=now,
                window_start=window_start(self.settings, now),
                max_failures=self.settings.throttle_max_failures,
            )
        )

    async def store_digest(self, user_id: int, old: str, new: str) -> None:
        await self._transaction(
            lambda db: credentials.replace_password_hash(db, user_id, old=old, new=new)
        )

    async def note_store_use(self, user_id: int, store_id: str, now: datetime) -> None:
        prepared, retire = self.statements.note_store_use, self.statements.retire_replaced
        values = {"user_id": user_id, "store_id": store_id, "now": now}

        def note(db: SqliteStatements) -> None:
            db.run_prepared(prepared, values)
            db.run_prepared(retire, values)  # a rotation's old credential, once switched

        await self._transaction(
            note,
            patience=self.settings.store_use_note_timeout_seconds,
        )

    async def sell(self, identity: TillIdentity, request: SellRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda db, caller: vouchers.sell(db, caller, request)
        )

    async def redeem(self, identity: TillIdentity, code: str, request: RedeemRequest) -> TillAnswer:
        return await self._write(
            identity,
            request.store_id,
            lambda db, caller: vouchers.redeem(db, caller, code, request),
        )

    async def load(self, identity: TillIdentity, code: str, request: LoadRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda db, caller: vouchers.load(db, caller, code, request)
        )

    async def reverse(
        self, identity: TillIdentity, code: str, request: ReverseRequest
    ) -> TillAnswer:
        return await self._write(
            identity,
            request.store_id,
            lambda db, caller: vouchers.reverse(db, caller, code, request),
        )

    async def void(self, identity: TillIdentity, request: VoidRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda db, caller: reversals.void(db, caller, request)
        )

    async def _write(self, identity: TillIdentity, store_id: str, work: Work) -> TillAnswer:
        """The caller at ``store_id``, and ``work`` with it, in one write transaction."""
        now = utcnow()

        def attempt(db: SqliteStatements) -> TillAnswer:
            row = db.first(CALLER, self.caller_values(identity, store_id, now))
            caller = caller_from_row(row, identity, store_id, self.settings, now)
            outcome = work(db, caller)
            return TillAnswer(outcome.status, outcome.body, outcome.replayed)

        try:
            return await self._transaction(attempt)
        except VoucherNotFound:
            return await self.voucher_not_found(identity.user_id, now)
        except LedgerError as error:
            return refusal(error)

    async def _transaction(
        self, work: Callable[[SqliteStatements], T], patience: float | None = None
    ) -> T:
        """``work`` in a write transaction, committed (rolled back when it raises);
        tried again from the loop while another writer holds SQLite's write lock, for
        ``patience`` seconds (``sqlite_busy_timeout_seconds`` unless given)."""
        if patience is None:
            patience = self.settings.sqlite_busy_timeout_seconds
        deadline = time.monotonic() + patience
        pause = _FIRST_PAUSE
        while True:
            try:
                return self._db.in_transaction(work)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
            if time.monotonic() >= deadline:
                raise _busy()
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)


class SqliteStatements:
    """api.core.statements.Statements on a sqlite3 connection: each statement compiled
    once, its timestamps converted as SQLAlchemy keeps them on SQLite."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._compiled: dict[Statement, Prepared] = {}

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def traced(self, callback: Callable[[str], None]) -> Iterator[None]:
        self._connection.set_trace_callback(callback)
        try:
            yield
        finally:
            self._connection.set_trace_callback(None)

    def in_transaction(self, work: Callable[[SqliteStatements], T]) -> T:
        """``work`` between ``BEGIN IMMEDIATE`` (SQLite's write lock, or SQLITE_BUSY at
        once) and ``COMMIT``; rolled back when it raises."""
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(self)
        except BaseException:
            if self._connection.in_transaction:  # (a busy re-begin left none)
                self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")
        return result

    def rows(self, statement: Statement, values: Mapping[str, Any]) -> list[Row]:
        prepared = self._compiled.get(statement)
        if prepared is None:
            prepared = self._compiled[statement] = Prepared.compile(statement, _DIALECT)
        return self.run_prepared(prepared, values)

    def first(self, statement: Statement, values: Mapping[str, Any]) -> Row | None:
        found = self.rows(statement, values)
        return found[0] if found else None

    def run(self, statement: Statement, values: Mapping[str, Any]) -> None:
        self.rows(statement, values)

    def rollback(self) -> None:
        self._connection.execute("ROLLBACK")
        self._connection.execute("BEGIN IMMEDIATE")

    def run_prepared(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        arguments = [_to_sqlite(v) for v in prepared.arguments(values)]
        cursor = self._connection.execute(prepared.sql, arguments)
        if not prepared.columns:
            return []
        rows: list[Row] = []
        for found in cursor.fetchall():
            row = dict(zip(prepared.columns, found, strict=True))
            for column in prepared.timestamp_columns:
                row[column] = _from_sqlite(row[column])
            rows.append(row)
        return rows


class _Checkpoints:
    """A thread that checkpoints the database's write-ahead log every ``period``
    seconds, on a connection of its own, waiting for nobody."""

    def __init__(self, path: str, period: float = 0.5) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(path, period), name="sqlite-checkpoints", daemon=True
        )
        self._thread.start()

    def _run(self, path: str, period: float) -> None:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping.wait(period):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy, or the file is gone at shutdown: the next turn
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _busy() -> Unavailable:
    return Unavailable(
        "The ledger's database is busy; nothing was changed. Retry with the same reference."
    )


def _to_sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLAlchemy's own text form of a timestamp on SQLite, in UTC as api.core.types
        # keeps them: "2027-01-31 09:00:00.000000".
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _from_sqlite(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
