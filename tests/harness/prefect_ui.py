"""A real ``prefect server start`` with its UI, for browser tests.

``prefect_test_harness`` runs its server in ephemeral mode with
``PREFECT_UI_ENABLED=0``, so it serves no UI to click through. This starts the
server the way ``scripts/up`` does, on a free loopback port with its home and
database in a test folder; ``client_pointed_at`` aims this process's Prefect client
(and so the helpers in ``prefect_env``) at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from harness.constants import PROJECT_ROOT
from harness.prefect_env import PrefectServer
from harness.processes import free_port, stop_process_group

_SERVER_ONLY_SERVICES = (
    "SCHEDULER",  # no deployment here has a schedule
    "LATE_RUNS",
    "FOREMAN",
    "REPOSSESSOR",
    "CANCELLATION_CLEANUP",
    "PAUSE_EXPIRATIONS",  # the store-ID wait is 30 days; the test takes seconds
)


@dataclass
class PrefectUiServer(PrefectServer):
    ui_url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def prefect_ui_server(
    folder: Path, startup_timeout: float = 90, *, pause_expirations_every: float | None = None
) -> Iterator[PrefectUiServer]:
    """With ``pause_expirations_every`` (seconds), the server's pause-expiration loop
    runs, that often: it fails a paused run whose timeout has passed."""
    folder.mkdir(parents=True, exist_ok=True)
    disabled = [
        name
        for name in _SERVER_ONLY_SERVICES
        if not (name == "PAUSE_EXPIRATIONS" and pause_expirations_every is not None)
    ]
    expirations = (
        {"PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_LOOP_SECONDS": str(pause_expirations_every)}
        if pause_expirations_every is not None
        else {}
    )
    port = free_port()
    ui_url = f"http://127.0.0.1:{port}"
    api_url = f"{ui_url}/api"
    database_path = folder / "prefect.db"
    env = {
        **_without_prefect_settings(os.environ),
        "PREFECT_HOME": str(folder / "home"),
        "PREFECT_API_URL": api_url,
        # The UI's JavaScript calls the API at this address from the browser.
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_UI_ENABLED": "true",
        # Pin the classic UI: its routes (/runs/flow-run/<id>) are what tests open.
        "PREFECT_SERVER_UI_V2_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{database_path}",
        # Run the services the harness runs, not the full server's extra loops: each
        # is one more SQLite writer, and a write between the resume call's read and
        # write fails it with "database is locked" (seen here as the UI's "Oops").
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false" for name in disabled},
        **expirations,
    }
    log_path = folder / "prefect-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectUiServer(
        api_url=api_url, database_path=database_path, ui_url=ui_url, log_path=log_path
    )
    try:
        _wait_until_up(server, process, startup_timeout)
        yield server
    finally:
        stop_process_group(process, timeout=20)


@contextmanager
def client_pointed_at(server: PrefectServer) -> Iterator[None]:
    """Aim this process's Prefect client at ``server`` for the ``with`` block only,
    so a session-wide ``prefect_test_harness`` in the same worker is untouched.

    Prefect's event and log workers are one per process, bound to the API address in
    force when they start. A flow run in the block would start them bound to
    ``server``, and every later run in this process (on the harness) would send to it
    after it stopped: each event then waits out the client's retries, and draining
    them at the harness's exit took minutes (a teardown timeout in CI). So the
    workers are drained on the way in and out: each address gets workers of its own.
    """
    _drain_prefect_workers()
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield
    finally:
        _drain_prefect_workers()


def _drain_prefect_workers(timeout: float = 60) -> None:
    # Sync callers get (done, not_done) back; the next event or log starts a new worker.
    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)


def _without_prefect_settings(environ: os._Environ[str]) -> dict[str, str]:
    # This server's settings only: none from the caller's shell or Prefect profile.
    return {k: v for k, v in environ.items() if not k.startswith("PREFECT_")}


def _wait_until_up(
    server: PrefectUiServer, process: subprocess.Popen[bytes], timeout: float
) -> None:
    """Up means the API answers and the UI's page and settings are served."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"prefect server exited:\n{server.log_text()}")
            try:
                if (
                    http.get(f"{server.api_url}/health").status_code == 200
                    and http.get(f"{server.ui_url}/ui-settings").status_code == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
    raise RuntimeError(f"prefect server did not start in {timeout}s:\n{server.log_text()}")
