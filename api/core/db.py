"""Engine and sessions, the same code on SQLite and PostgreSQL.

SQLite serialises writers. A transaction that reads first and writes later can fail
at its first write with SQLITE_BUSY when another writer committed in between, and
no busy timeout helps then. So transactions that may write start with
``BEGIN IMMEDIATE`` (they take the write lock up front and queue behind each other,
bounded by the busy timeout), while read-only ones start with a plain ``BEGIN``.
PostgreSQL needs none of this: writers lock the voucher row (``FOR UPDATE``).

Within one process, SQLite writers also queue on a lock of ours before ``BEGIN
IMMEDIATE``. SQLite's busy handler does not queue: a waiting writer sleeps and polls
(up to 100 ms between tries), so under load some writers lose round after round and
wait seconds (bench/: p99 in seconds at 32 connections). Our lock hands over at once;
the busy timeout still orders writers across processes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from api.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WRITE_OPTION = "ledger_write_transaction"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQL parameters (card numbers among them) stay out of SQL logs and out of the messages
# of database errors, which are logged with their traceback.
HIDE_PARAMETERS = True


def build_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings)
    # The admin API's and the command line's engine (the till path has a pool of its
    # own: api.till.postgres). A connection is pinged when taken from the pool, so one
    # the server closed (a restart) is replaced rather than failing the call: a round
    # trip the admin API can afford.
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        hide_parameters=HIDE_PARAMETERS,
    )


class _SqliteConnection(sqlite3.Connection):
    """A connection that lets go of the process's writer lock when its transaction ends
    (commit, rollback, or the connection closing), whichever thread ends it."""

    writer_lock: threading.Lock | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release_writer_lock()

    def _release_writer_lock(self) -> None:
        lock, self.writer_lock = self.writer_lock, None
        if lock is not None:
            lock.release()


def _sqlite_engine(settings: Settings) -> Engine:
    # A plain Lock, not an RLock: a session may begin in one worker thread and commit
    # in another.
    writers = threading.Lock()
    engine = create_engine(
        _sqlite_url(settings),
        connect_args={
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_seconds,
            "factory": _SqliteConnection,
        },
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        hide_parameters=HIDE_PARAMETERS,
    )
    _configure_sqlite_connections(engine, busy_timeout_seconds=settings.sqlite_busy_timeout_seconds)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(_WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_connection: _SqliteConnection = conn.connection.dbapi_connection
        # Bounded like the busy timeout: should a thread ever nest two write
        # transactions, it falls back to SQLite's own waiting instead of hanging here.
        if writers.acquire(timeout=settings.sqlite_busy_timeout_seconds):
            dbapi_connection.writer_lock = writers
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection._release_writer_lock()
            raise

    return engine


def _sqlite_url(settings: Settings) -> URL:
    url = make_url(settings.database_url)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def _configure_sqlite_connections(engine: Engine, *, busy_timeout_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite(dbapi_connection, busy_timeout_seconds=busy_timeout_seconds)


def configure_sqlite(connection: sqlite3.Connection, *, busy_timeout_seconds: float) -> None:
    """How every connection to the ledger's SQLite database is set up."""
    # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
    cursor.close()


def sqlite_path(settings: Settings) -> str:
    """The database file of a SQLite ledger (its folder made if it is missing)."""
    path = _sqlite_url(settings).database
    if not path or path == ":memory:":
        raise ValueError("the ledger needs a SQLite database in a file")
    return path


# SQLSTATE classes of a database that cannot be reached: connection exceptions (08)
# and operator intervention (57P: shut down, restarting, not accepting connections).
_UNREACHABLE_SQLSTATES = ("08", "57P")

T = TypeVar("T")


def is_unreachable(error: DBAPIError) -> bool:
    """True when ``error`` says the database could not be reached (its connection was
    closed under it, or none could be opened), not that a statement was wrong."""
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, psycopg.OperationalError):
        sqlstate = original.sqlstate
        return sqlstate is None or sqlstate.startswith(_UNREACHABLE_SQLSTATES)
    return False


@dataclass(frozen=True)
class Database:
    """The engine and the two kinds of session a request can ask for."""

    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]

    @property
    def writes_lock_database(self) -> bool:
        """True when a write transaction locks the whole database (SQLite)."""
        return self.engine.dialect.name == "sqlite"

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = build_engine(settings)
        reads = engine
        if engine.dialect.name == "postgresql":
            # Reads run each statement as its own transaction: a BEGIN and a ROLLBACK
            # are two round trips of a balance check's four. Under READ COMMITTED each
            # statement saw a snapshot of its own anyway.
            reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(
            engine=engine,
            reader=sessionmaker(reads, expire_on_commit=False),
            writer=sessionmaker(
                engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
            ),
        )

    def dispose(self) -> None:
        self.engine.dispose()
