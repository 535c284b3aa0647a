"""Prefect as production runs it, for the tests of running past one machine: a
`prefect server start` on PostgreSQL, the deployments of prefect.yaml registered with
`prefect deploy`, and process workers polling the `onboarding` work pool, each from a
working directory of its own (as on a machine of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from sqlalchemy.engine import make_url

from harness.constants import PROJECT_ROOT
from harness.postgres import empty_database
from harness.processes import free_port, stop_process_group, wait_for_health

PREFECT = Path(sys.executable).with_name("prefect")
WORK_POOL = "onboarding"


@dataclass
class PrefectOnPostgres:
    api_url: str
    home: Path
    log_path: Path

    def env(self, **extra: str) -> dict[str, str]:
        """This server's settings for a Prefect client or worker process: none from
        the caller's shell or profile."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        return {**clean, "PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.home), **extra}

    def prefect(self, *args: str) -> str:
        """The `prefect` command, from the project folder (where prefect.yaml is)."""
        done = subprocess.run(
            [str(PREFECT), "--no-prompt", *args],
            cwd=PROJECT_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@contextmanager
def prefect_server_on_postgresql(folder: Path) -> Iterator[PrefectOnPostgres]:
    """`prefect server start` with PREFECT_SERVER_DATABASE_CONNECTION_URL pointing at
    a new PostgreSQL database (dropped afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    with empty_database("postgresql", folder) as ledger_style_url:
        database_url = make_url(ledger_style_url).set(drivername="postgresql+asyncpg")
        port = free_port()
        server = PrefectOnPostgres(
            api_url=f"http://127.0.0.1:{port}/api",
            home=folder / "home",
            log_path=folder / "prefect-server.log",
        )
        env = server.env(
            PREFECT_SERVER_DATABASE_CONNECTION_URL=database_url.render_as_string(
                hide_password=False
            ),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_health(f"{server.api_url}/health", process, server.log_path, timeout=120)
            yield server
        finally:
            stop_process_group(process)


@dataclass
class Worker:
    pid: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def flow_run_processes(flow_run_id: UUID) -> list[int]:
    """The processes running that flow run now, on this machine: a worker starts
    each with PREFECT__FLOW_RUN_ID in its environment."""
    marker = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@contextmanager
def process_worker(
    server: PrefectOnPostgres, folder: Path, name: str, env: dict[str, str]
) -> Iterator[Worker]:
    """`prefect worker start --pool onboarding` from its own working directory."""
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", WORK_POOL, "--name", name],
            cwd=folder,
            env=server.env(PREFECT_WORKER_QUERY_SECONDS="1", **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Worker(process.pid, log_path)
    finally:
        stop_process_group(process)
