"""The ledger in this process: its settings for tests, and its app under uvicorn on a
free loopback port, in a background thread. Imports the ledger's code."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from api.core.config import Settings
from api.main import create_app
from harness.constants import ADMIN_TOKEN, NO_PREFECT_API_URL, STORE_ID_LINK_KEY


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "store_id_link_key": STORE_ID_LINK_KEY,
        "prefect_api_url": NO_PREFECT_API_URL,
        # Cheap argon2 keeps the suite fast; production uses argon2-cffi's defaults.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class LedgerServer:
    url: str
    app: FastAPI
    settings: Settings

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the till path has written the notes of the credentials' store
        uses it owes (api.till.store_uses: they go after the answer), so that they
        are in the database, and out of the way of a count of statements."""
        deadline = time.monotonic() + timeout
        while not self.app.state.till.store_uses.idle:
            if time.monotonic() > deadline:
                raise AssertionError("the ledger's store-use notes did not settle")
            time.sleep(0.005)


@contextmanager
def serve_ledger(settings: Settings) -> Iterator[LedgerServer]:
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ledger-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the ledger did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LedgerServer(url=f"http://127.0.0.1:{port}", app=app, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
