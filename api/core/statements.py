"""SQLAlchemy Core statements run straight on a database driver.

The till path's statements are SQLAlchemy's (built from the models, their SQL written
once for both databases) but run on the driver itself: in bench/'s measurements
SQLAlchemy's execution layer cost as much Python per statement as everything else in a
till call. ``Prepared`` is a statement compiled once for a driver (its SQL, the order
of its parameters, its result columns); ``Statements`` is what runs them, on one
connection, with rows as mappings by column name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Insert, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.selectable import ExecutableReturnsRows

from api.core.types import UTCDateTime

Row = Mapping[str, Any]
# A SELECT, INSERT, UPDATE or DELETE (with or without RETURNING).
Statement = ExecutableReturnsRows


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one driver's own API: its SQL text, the names of its
    parameters in the order the driver takes them, its result columns and which of
    them are timestamps (SQLite keeps those as text)."""

    sql: str
    parameters: tuple[str, ...]
    defaults: Mapping[str, Any]
    columns: tuple[str, ...]
    timestamp_columns: frozenset[str]

    @classmethod
    def compile(cls, statement: Statement, dialect: Dialect) -> Prepared:
        compiled = statement.compile(dialect=dialect)
        exported = list(statement.exported_columns)  # a SELECT's, or DML's RETURNING
        return cls(
            sql=compiled.string,
            parameters=tuple(compiled.positiontup or ()),
            defaults=dict(compiled.params),
            columns=tuple(str(c.key) for c in exported),
            timestamp_columns=frozenset(
                str(c.key) for c in exported if isinstance(c.type, UTCDateTime)
            ),
        )

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[n] if n in values else self.defaults[n] for n in self.parameters]


class Statements(Protocol):
    """Runs statements on one connection, inside the transaction its owner began."""

    def rows(self, statement: Statement, values: Mapping[str, Any]) -> list[Row]:
        """Every row the statement returns (a SELECT, or DML with RETURNING)."""

    def first(self, statement: Statement, values: Mapping[str, Any]) -> Row | None: ...

    def run(self, statement: Statement, values: Mapping[str, Any]) -> None:
        """A statement that returns nothing."""

    def rollback(self) -> None:
        """Undo the transaction's work and begin a new transaction in its place."""


def insert_of(model: Any, *columns: str) -> Insert:
    """``INSERT INTO model's table (columns) VALUES (:column, ...)``: an insert that
    names its columns, so that it compiles alone, without its parameters at hand."""
    return insert(model).values({column: bindparam(column) for column in columns})
