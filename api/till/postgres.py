"""The till path on PostgreSQL: asyncpg on the event loop, one round trip per call.

A write is one call of a function that migration 0005 installed (till_sell, till_move,
till_reverse, till_void: the rules, the row lock, the ledger entry and the idempotency
record, run inside the server); a balance check is one SELECT. Each runs as its own
transaction (no BEGIN/COMMIT round trips), on a connection from an asyncpg pool.

A connection the server closed (a restart, a failover, ``pg_terminate_backend``)
fails the statement sent on it. A read is then tried once more, on a fresh connection;
a write is answered ``503 unavailable`` with Retry-After: it committed nothing (the
function's transaction ended with the connection), or, if it committed and only its
answer was lost, the till's retry with the same reference is a replay.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url

from api.core.config import Settings
from api.core.errors import Unavailable
from api.core.types import utcnow
from api.idempotency.service import request_fingerprint
from api.reversals.schemas import VoidRequest
from api.throttle.service import window_start
from api.till.answers import TillAnswer
from api.till.backend import Row, StatementFailed, TillBackend
from api.till.caller import CredentialChanged, TillIdentity
from api.till.statements import Prepared, TillStatements
from api.vouchers import cards, service
from api.vouchers.schemas import LoadRequest, RedeemRequest, ReverseRequest, SellRequest

T = TypeVar("T")
logger = logging.getLogger("api.errors")

# What a server that closed a connection, or cannot be reached, looks like to asyncpg.
# Refused before anything was sent: a connection found closed (InterfaceError), or one
# the server closed while it sat in the pool, its farewell read but its end not yet
# (InternalClientError: "another operation is in progress"). Any call may be sent
# again on a fresh connection.
_NOT_SENT = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)
# Lost on the way, maybe after the server received it (ConnectionDoesNotExistError is
# a PostgresConnectionError), the server refusing or shutting down (SQLSTATE 08, 57P,
# 53300), or no connection at all (OSError, timeout): only a read may be sent again.
_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    OSError,
    TimeoutError,
)
_UNREACHABLE = _NOT_SENT + _LOST
# till_record's "a twin under this reference answered meanwhile": asked again, the
# call replays the twin's answer.
_ANSWERED_MEANWHILE = "LDG01"
_ATTEMPTS = 3
# till_gate's status for a user whose password hash is not the one the gate checked.
_CREDENTIAL_CHANGED = 0


def _answer_of(function: str, arguments: int) -> str:
    """The statement that calls one of migration 0005's till functions."""
    placeholders = ", ".join(f"${n}" for n in range(1, arguments + 1))
    return f"SELECT status, body, replayed, retry_after FROM {function}({placeholders})"


_SELL = _answer_of("till_sell", 12)
_MOVE = _answer_of("till_move", 13)
_REVERSE = _answer_of("till_reverse", 11)
_VOID = _answer_of("till_void", 10)
_COUNT_FAILURE = "SELECT till_count_failure($1, $2, $3, $4)"
# The time limits of a store-use note (api.till.store_uses), for its transaction alone:
# while it waits for a lock (a migration, a dump) it holds one of the till's connections.
_NOTE_PATIENCE = (
    "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $1, true)"
)
_STORE_DIGEST = (
    "UPDATE integration_users SET password_hash = $3 WHERE id = $1 AND password_hash = $2"
)


class PostgresTill(TillBackend):
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        super().__init__(settings, TillStatements.for_dialect(asyncpg_dialect.dialect()))
        self._pool = pool
        self._tracers: list[Callable[[str], None]] = []

    @classmethod
    async def start(cls, settings: Settings) -> PostgresTill:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url),
            min_size=settings.db_pool_size,
            max_size=settings.db_pool_size,
            server_settings={"application_name": "ledger till"},
            # asyncpg's default resets a connection (advisory locks, cursors, LISTEN,
            # settings) with one more round trip every time it goes back to the pool;
            # the till path leaves none of those behind (each statement is its own
            # transaction), so nothing needs resetting.
            reset=_leave_as_is,
        )
        return cls(settings, pool)

    async def close(self) -> None:
        await self._pool.close()

    # --- Reads ------------------------------------------------------------------------

    async def fetch_one(self, prepared: Prepared, values: Mapping[str, Any]) -> Row | None:
        arguments = prepared.arguments(values)
        row: Row | None = await self._read(
            prepared.sql, lambda c: c.fetchrow(prepared.sql, *arguments)
        )
        return row

    async def fetch_all(self, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
        arguments = prepared.arguments(values)
        rows: list[Row] = await self._read(
            prepared.sql, lambda c: c.fetch(prepared.sql, *arguments)
        )
        return rows

    async def _read(self, sql: str, read: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        try:
            return await self._reaching(read, send_again_if_lost=True)
        except asyncpg.PostgresError as error:
            raise StatementFailed(error, sql) from error

    async def _reaching(
        self, work: Callable[[asyncpg.Connection], Awaitable[T]], *, send_again_if_lost: bool
    ) -> T:
        """``work`` on a pooled connection; when the server had closed it, once more on a
        fresh one if nothing was sent, or if ``work`` is a read (nothing was written by
        the first try); else 503 unavailable."""
        for attempt in (1, 2):
            try:
                return await self._on_connection(work)
            except _NOT_SENT as error:
                if attempt == 2:
                    raise _unavailable(error) from None
            except _LOST as error:
                if attempt == 2 or not send_again_if_lost:
                    raise _unavailable(error) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _on_connection(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async with self._pool.acquire() as connection:
            try:
                if not self._tracers:
                    return await work(connection)
                return await self._traced(connection, work)
            except _UNREACHABLE:
                # The server closed this one, and so, most likely, the others opened
                # with it (a restart): each is replaced before it is used again. (A
                # connection asyncpg saw close went back to the pool already.)
                with suppress(asyncpg.InterfaceError):
                    connection.terminate()
                await self._pool.expire_connections()
                raise

    @contextmanager
    def trace_statements(self, callback: Callable[[str], None]) -> Iterator[None]:
        self._tracers.append(callback)
        try:
            yield
        finally:
            self._tracers.remove(callback)

    async def _traced(
        self, connection: asyncpg.Connection, work: Callable[[asyncpg.Connection], Awaitable[T]]
    ) -> T:
        def log(query: Any) -> None:
            for tracer in self._tracers:
                tracer(query.query)

        connection.add_query_logger(log)
        try:
            return await work(connection)
        finally:
            connection.remove_query_logger(log)

    # --- Writes: one function call each -----------------------------------------------

    async def count_failure(self, user_id: int, now: datetime) -> datetime | None:
        at: datetime | None = await self._write(
            lambda c: c.fetchval(_COUNT_FAILURE, user_id, *self._throttle(now))
        )
        return at

    async def store_digest(self, user_id: int, old: str, new: str) -> None:
        await self._write(lambda c: c.execute(_STORE_DIGEST, user_id, old, new))

    async def note_store_use(self, user_id: int, store_id: str, now: datetime) -> None:
        values = {"user_id": user_id, "store_id": store_id, "now": now}
        prepared, retire = self.statements.note_store_use, self.statements.retire_replaced
        arguments = prepared.arguments(values)
        patience = str(round(self.settings.store_use_note_timeout_seconds * 1000))

        async def note(connection: asyncpg.Connection) -> None:
            # Five round trips, once per credential and store in a process: the time
            # limits hold for this transaction only (SET LOCAL), not the connection's
            # later till calls (a redeem waits for its voucher's row as long as it takes).
            async with connection.transaction():
                await connection.execute(_NOTE_PATIENCE, patience)
                await connection.execute(prepared.sql, *arguments)
                await connection.execute(retire.sql, *retire.arguments(values))

        # Not _write: a failure here is nobody's answer (api.till.store_uses logs it).
        await self._on_connection(note)

    async def sell(self, identity: TillIdentity, request: SellRequest) -> TillAnswer:
        now = utcnow()
        fingerprint = request_fingerprint("sell", request)
        while True:
            # The code's random middle; the function puts the account's card range
            # before it and the Luhn check digit after (as cards.generate does).
            digits = cards.random_digits()
            try:
                return await self._call(
                    _SELL,
                    identity.user_id,
                    identity.password_hash,
                    request.store_id,
                    request.product_id,
                    request.amount,
                    request.reference,
                    fingerprint,
                    _transaction_id(),
                    digits,
                    *self._throttle(now),
                )
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name != "uq_vouchers_code":
                    raise
                # That code is taken: nothing was written; draw again.

    async def redeem(self, identity: TillIdentity, code: str, request: RedeemRequest) -> TillAnswer:
        return await self._move("redemption", "redeem", identity, code, request)

    async def load(self, identity: TillIdentity, code: str, request: LoadRequest) -> TillAnswer:
        return await self._move("load", "load", identity, code, request)

    async def _move(
        self,
        kind: str,
        operation: str,
        identity: TillIdentity,
        code: str,
        request: RedeemRequest | LoadRequest,
    ) -> TillAnswer:
        now = utcnow()
        lookup = service.lookup_code(code)
        return await self._call(
            _MOVE,
            kind,
            identity.user_id,
            identity.password_hash,
            request.store_id,
            lookup,
            request.amount,
            isinstance(request, RedeemRequest) and request.allow_partial,
            request.reference,
            request_fingerprint(operation, request, code=lookup or ""),
            _transaction_id(),
            *self._throttle(now),
        )

    async def reverse(
        self, identity: TillIdentity, code: str, request: ReverseRequest
    ) -> TillAnswer:
        now = utcnow()
        lookup = service.lookup_code(code)
        return await self._call(
            _REVERSE,
            identity.user_id,
            identity.password_hash,
            request.store_id,
            lookup,
            request.transaction_id,
            request.reference,
            request_fingerprint("reverse", request, code=lookup or ""),
            _transaction_id(),
            *self._throttle(now),
        )

    async def void(self, identity: TillIdentity, request: VoidRequest) -> TillAnswer:
        now = utcnow()
        return await self._call(
            _VOID,
            identity.user_id,
            identity.password_hash,
            request.store_id,
            request.original_reference,
            request.reference,
            request_fingerprint("void", request),
            _transaction_id(),
            *self._throttle(now),
        )

    def _throttle(self, now: datetime) -> tuple[datetime, datetime, int]:
        """The functions' last arguments: now, and the throttle's window and allowance."""
        return now, window_start(self.settings, now), self.settings.throttle_max_failures

    async def _call(self, sql: str, *arguments: Any) -> TillAnswer:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                row = await self._write(lambda c: c.fetchrow(sql, *arguments))
            except asyncpg.UniqueViolationError:
                raise  # sell's code drawn twice: sell draws again
            except asyncpg.PostgresError as error:
                if error.sqlstate != _ANSWERED_MEANWHILE or attempt == _ATTEMPTS:
                    raise StatementFailed(error, sql) from error
                continue
            if row["status"] == _CREDENTIAL_CHANGED:
                raise CredentialChanged()
            return TillAnswer(row["status"], row["body"], row["replayed"], row["retry_after"])
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write(self, write: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        return await self._reaching(write, send_again_if_lost=False)


async def _leave_as_is(_connection: asyncpg.Connection) -> None:
    return None


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg's form of a SQLAlchemy URL (``postgresql+psycopg://…`` → ``postgresql://…``)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _transaction_id() -> str:
    return str(uuid.uuid4())


def _unavailable(error: BaseException) -> Unavailable:
    logger.warning("database unreachable (%s: %s): answered 503", type(error).__name__, error)
    return Unavailable(
        "The ledger's database could not be reached; nothing was changed. "
        "Retry with the same reference."
    )
