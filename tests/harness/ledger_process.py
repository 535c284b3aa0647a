"""The ledger as a child process, served by its own command line: for the tests that
need a ledger but run where the ledger's code is not installed (the onboarding
environment). Nothing here imports ``api``.

``LedgerService`` migrates the database (``ledger migrate``), serves it
(``ledger serve``) on a free loopback port with the given admin token, waits for
``/healthz`` and stops the process cleanly. The Python it runs the ledger with is
``HARNESS_LEDGER_PYTHON`` (default: this one), e.g. the ledger environment's
``.venv-ledger/bin/python``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.constants import ADMIN_TOKEN, NO_PREFECT_API_URL, PROJECT_ROOT, STORE_ID_LINK_KEY
from harness.processes import free_port, stop_process_group, wait_for_health

PYTHON_ENV = "HARNESS_LEDGER_PYTHON"
# The ledger's own settings; none of the caller's may leak into the child.
SETTING_PREFIX = "LEDGER_"
PORT_ATTEMPTS = 3


def ledger_python() -> str:
    return os.environ.get(PYTHON_ENV) or sys.executable


@dataclass
class LedgerService:
    """A ledger served by ``python -m api.cli serve`` in a process of its own."""

    database_url: str
    folder: Path
    admin_token: str = ADMIN_TOKEN
    # The Prefect server whose waiting runs the store-ID page resumes.
    prefect_api_url: str = NO_PREFECT_API_URL
    url: str = ""
    log_path: Path = field(init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / "ledger.log"

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIX)}
        return {
            **clean,
            "LEDGER_DATABASE_URL": self.database_url,
            "LEDGER_ADMIN_TOKEN": self.admin_token,
            "LEDGER_STORE_ID_LINK_KEY": STORE_ID_LINK_KEY,
            "LEDGER_PREFECT_API_URL": self.prefect_api_url,
            # Store-ID links name where the ledger runs (known once it serves).
            **({"LEDGER_PUBLIC_URL": self.url} if self.url else {}),
            # Cheap argon2 keeps the suite fast; production uses argon2-cffi's defaults.
            "LEDGER_ARGON2_TIME_COST": "1",
            "LEDGER_ARGON2_MEMORY_COST_KIB": "1024",
        }

    def migrate(self) -> None:
        done = subprocess.run(
            [ledger_python(), "-m", "api.cli", "migrate"],
            cwd=PROJECT_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ledger migrate failed:\n{done.stdout}\n{done.stderr}")

    def start(self, timeout: float = 180) -> LedgerService:
        """Serve on a free port (another, if that one is taken meanwhile)."""
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            with self.log_path.open("ab") as log:
                process = subprocess.Popen(
                    [ledger_python(), "-m", "api.cli", "serve", "--port", str(port)],
                    cwd=PROJECT_ROOT,
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                wait_for_health(f"{self.url}/healthz", process, self.log_path, timeout)
            except RuntimeError:
                stop_process_group(process, timeout=10)
                self.url = ""
                if "already in use" in self.log_text():
                    continue
                raise
            self._process = process
            return self
        raise RuntimeError(f"no free port for the ledger:\n{self.log_text()}")

    def stop(self) -> None:
        if self._process is not None:
            stop_process_group(self._process, timeout=20)
            self._process = None

    def admin(self) -> httpx.Client:
        """An admin API client (the caller closes it)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=60,
        )

    def sqlite_path(self) -> Path:
        """The database file, for tests that search it (SQLite only)."""
        assert self.database_url.startswith("sqlite:///"), self.database_url
        return Path(self.database_url.removeprefix("sqlite:///"))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_ledger(
    database_url: str, folder: Path, prefect_api_url: str = NO_PREFECT_API_URL
) -> Iterator[LedgerService]:
    """A migrated ledger served in a child process, stopped afterwards."""
    service = LedgerService(database_url, folder, prefect_api_url=prefect_api_url)
    service.migrate()
    service.start()
    try:
        yield service
    finally:
        service.stop()
