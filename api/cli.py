"""The `ledger` console command: migrate, serve, and make a demo merchant."""

from __future__ import annotations

import json
import socket
from typing import Annotated

import typer
from alembic.util import CommandError
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import DBAPIError

from api.core.config import Settings, get_settings
from api.core.context import LedgerContext
from api.core.migrate import explain_failure, pending, upgrade

# With --workers, uvicorn kills a worker that does not answer its health check in time
# and starts another; on a busy host a starting worker can take longer than uvicorn's
# 5 seconds, and then the workers are killed and restarted over and over.
WORKER_HEALTHCHECK_SECONDS = 30

app = typer.Typer(help="The gift-card ledger.", no_args_is_help=True, add_completion=False)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    """The settings, or a one-line error naming what is wrong with them."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(_setting_problem(e) for e in error.errors())
        raise _fail(f"Invalid settings: {problems}") from None


def _setting_problem(error: ErrorDetails) -> str:
    if error["loc"]:
        return f"LEDGER_{'_'.join(map(str, error['loc'])).upper()}: {error['msg']}"
    # A check across settings: its message already names the variables.
    return str(error.get("ctx", {}).get("error", error["msg"]))


def _migrate(settings: Settings) -> None:
    try:
        upgrade(settings.database_url)
    except (DBAPIError, CommandError) as error:
        reason = explain_failure(settings.database_url, error)
        raise _fail(f"Could not migrate {_safe_url(settings)}: {reason}") from None


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    settings = _settings()
    _migrate(settings)
    typer.echo(f"Database at the newest schema: {_safe_url(settings)}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create a new demo merchant (account, product, two sites with store IDs, an
    integration user) and print it as JSON: the sandbox a till developer starts from."""
    from api.demo import create_demo_merchant

    settings = _settings()
    _migrate(settings)
    context = LedgerContext.from_settings(settings)
    try:
        demo = create_demo_merchant(context)
    finally:
        context.close()
    typer.echo(json.dumps(demo, indent=2))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the ledger with uvicorn (card numbers masked in every log line)."""
    import uvicorn

    from api.core.logging import uvicorn_log_config

    settings = _settings()
    context = LedgerContext.from_settings(settings)
    try:
        if pending(context.db.engine, settings.database_url):
            raise _fail(
                f"The database {_safe_url(settings)} is not at the newest schema. "
                "Run `ledger migrate` first."
            )
    except DBAPIError as error:  # down, refusing us, or not a database at all
        raise _fail(f"Cannot reach the database {_safe_url(settings)}: {error.orig}") from None
    finally:
        context.close()
    if not _port_free(host, port):
        raise _fail(f"Port {port} on {host} is already in use; pick another with --port.")
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(),
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
