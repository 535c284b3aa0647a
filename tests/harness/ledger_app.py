"""The ledger under uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import uvicorn
from fastapi import FastAPI

from api.core.config import Settings
from api.main import create_app


class ServedLedger(Protocol):
    """A ledger answering HTTP somewhere: in this process or in its own."""

    @property
    def url(self) -> str: ...


@dataclass
class LedgerServer:
    url: str
    app: FastAPI
    settings: Settings


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
