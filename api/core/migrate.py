"""Running the ledger's alembic migrations from code (the CLI, `up`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # alembic's config is an ini file underneath: '%' must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def pending(engine: Engine, database_url: str) -> bool:
    """True when the database is not at the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != heads


def explain_failure(database_url: str, error: DBAPIError | CommandError) -> str:
    """Why the database could not be migrated, in words that say what to do."""
    if isinstance(error, CommandError):
        if "Can't locate revision" in str(error):
            return (
                f"it is at a revision this version of the ledger does not know "
                f"({_recorded(database_url)}): a newer version migrated it. Run that "
                "version, or restore a backup taken before."
            )
        return str(error)
    reason = str(error.orig)
    if "already exists" in reason:
        fix = "restore it from a backup"
        if database_url.startswith("sqlite:///"):
            fix += f", or move {database_url.removeprefix('sqlite:///')} aside to start afresh"
        return (
            f"its tables do not match its migration record ({_recorded(database_url)}): "
            f"{reason}. It was half-migrated, or built by other means; {fix}."
        )
    return reason


def _recorded(database_url: str) -> str:
    try:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                heads = MigrationContext.configure(connection).get_current_heads()
        finally:
            engine.dispose()
    except DBAPIError:
        return "unreadable"
    return f"revision {', '.join(heads)}" if heads else "no migration at all"
