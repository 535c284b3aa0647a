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
Python ones (api/vouchers/service.py, api/reversals/service.py, api/idempotency).

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

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.core.config import Settings
from api.core.db import Database, sqlite_event_loop_engine
from api.core.errors import LedgerError, Unavailable, VoucherNotFound
from api.core.types import utcnow
from api.credentials import repository as credentials
from api.idempotency.service import TillOutcome
from api.reversals import service as reversals
from api.reversals.schemas import VoidRequest
from api.throttle import repository as throttle
from api.throttle.service import window_start
from api.till.answers import TillAnswer, refusal
from api.till.backend import Row, StatementFailed, TillBackend
from api.till.caller import TillCaller, TillIdentity, caller_from_row
from api.till.statements import CALLER, Prepared, TillStatements
from api.vouchers import service as vouchers
from api.vouchers.schemas import LoadRequest, RedeemRequest, ReverseRequest, SellRequest

T = TypeVar("T")
Work = Callable[[Session, TillCaller], TillOutcome]

# Pauses between tries for the write lock: short at first (another writer holds it for
# a millisecond or so), then at most this long.
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.01


class SqliteTill(TillBackend):
    def __init__(self, settings: Settings, database: Database) -> None:
        super().__init__(settings, TillStatements.for_dialect(database.engine.dialect))
        self._engine = sqlite_event_loop_engine(settings)
        self._connection = self._engine.connect()
        driver = self._connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        self._raw = driver
        self._raw.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoints = _Checkpoints(database.engine.url.database)

    async def close(self) -> None:
        self._checkpoints.stop()
        self._connection.close()
        self._engine.dispose()

    @contextmanager
    def trace_statements(self, callback: Callable[[str], None]) -> Iterator[None]:
        self._raw.set_trace_callback(callback)
        try:
            yield
        finally:
            self._raw.set_trace_callback(None)

    # --- Reads, straight on the driver ------------------------------------------------

    async def fetch_one(self, prepared: Prepared, values: Mapping[str, Any]) -> Row | None:
        rows = self._read(prepared, values)
        return rows[0] if rows else None

    async def fetch_all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        return self._read(prepared, values)

    def _read(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        arguments = [_to_sqlite(v) for v in prepared.arguments(values)]
        try:
            found = self._raw.execute(prepared.sql, arguments).fetchall()
        except sqlite3.OperationalError as error:
            # In WAL mode a read waits for nobody, but for a moment while the log is
            # being reset: too rare to wait for here.
            if not _is_busy(error):
                raise StatementFailed(error, prepared.sql) from error
            raise _busy() from None
        except sqlite3.Error as error:
            raise StatementFailed(error, prepared.sql) from error
        rows: list[dict[str, Any]] = [
            dict(zip(prepared.columns, row, strict=True)) for row in found
        ]
        for row in rows:
            for column in prepared.timestamp_columns:
                row[column] = _from_sqlite(row[column])
        return list(rows)

    # --- Writes: one transaction each, holding SQLite's write lock --------------------

    async def count_failure(self, user_id: int, now: datetime) -> datetime | None:
        return await self._transaction(
            lambda session: throttle.count_failure(
                session,
                user_id,
                now=now,
                window_start=window_start(self.settings, now),
                max_failures=self.settings.throttle_max_failures,
            )
        )

    async def store_digest(self, user_id: int, old: str, new: str) -> None:
        await self._transaction(
            lambda session: credentials.replace_password_hash(session, user_id, old=old, new=new)
        )

    async def sell(self, identity: TillIdentity, request: SellRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda s, caller: vouchers.sell(s, caller, request)
        )

    async def redeem(self, identity: TillIdentity, code: str, request: RedeemRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda s, caller: vouchers.redeem(s, caller, code, request)
        )

    async def load(self, identity: TillIdentity, code: str, request: LoadRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda s, caller: vouchers.load(s, caller, code, request)
        )

    async def reverse(
        self, identity: TillIdentity, code: str, request: ReverseRequest
    ) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda s, caller: vouchers.reverse(s, caller, code, request)
        )

    async def void(self, identity: TillIdentity, request: VoidRequest) -> TillAnswer:
        return await self._write(
            identity, request.store_id, lambda s, caller: reversals.void(s, caller, request)
        )

    async def _write(self, identity: TillIdentity, store_id: str, work: Work) -> TillAnswer:
        """The caller at ``store_id``, and ``work`` with it, in one write transaction."""
        now = utcnow()

        def attempt(session: Session) -> TillAnswer:
            values = self.caller_values(identity, store_id, now)
            row = session.connection().execute(CALLER, values).mappings().first()
            found = None if row is None else dict(row)
            caller = caller_from_row(found, identity, store_id, self.settings, now)
            outcome = work(session, caller)
            return TillAnswer(outcome.status, outcome.body, outcome.replayed)

        try:
            return await self._transaction(attempt)
        except VoucherNotFound:
            return await self.voucher_not_found(identity.user_id, now)
        except LedgerError as error:
            return refusal(error)

    async def _transaction(self, work: Callable[[Session], T]) -> T:
        """``work`` in a write transaction, committed (rolled back when it raises);
        tried again from the loop while another writer holds SQLite's write lock."""
        deadline = time.monotonic() + self.settings.sqlite_busy_timeout_seconds
        pause = _FIRST_PAUSE
        while True:
            try:
                with Session(self._connection, expire_on_commit=False) as session:
                    try:
                        result = work(session)
                        session.commit()
                    except BaseException:
                        session.rollback()
                        raise
                return result
            except OperationalError as error:
                if not isinstance(error.orig, sqlite3.OperationalError) or not _is_busy(error.orig):
                    raise
            if time.monotonic() >= deadline:
                raise _busy()
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)


class _Checkpoints:
    """A thread that checkpoints the database's write-ahead log every ``period``
    seconds, on a connection of its own, waiting for nobody."""

    def __init__(self, path: str | None, period: float = 0.5) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if path and path != ":memory:":
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
        if self._thread is not None:
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
