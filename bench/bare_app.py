"""The framework ceiling: a bare FastAPI endpoint with the balance call's path, query,
and response shape, answered from memory. It is declared as the ledger's routes are
(a sync ``def`` with a response model) and served as ``ledger serve`` serves the ledger
(uvicorn, as many worker processes, as many worker threads, the masked access log), so
that the gap between the two is what the ledger does per request, not how it is served.

    python -m bench.bare_app --port 8001 [--workers N]
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from anyio import to_thread
from fastapi import FastAPI, Query

from api.core.config import Settings
from api.core.schemas import StoreId
from api.vouchers.schemas import VoucherOut


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # The ledger's default number of worker threads (api.main).
    threads = Settings.model_fields["worker_threads"].default
    to_thread.current_default_thread_limiter().total_tokens = threads
    yield


app = FastAPI(title="bare", lifespan=_lifespan)
_BALANCE = {"balance": 2500, "currency": "GBP", "status": "active", "expires_at": None}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/vouchers/{code}", response_model=VoucherOut)
def check_balance(code: str, store_id: Annotated[StoreId, Query()]) -> VoucherOut:
    return VoucherOut(code=code, **_BALANCE)


def main() -> None:
    import uvicorn

    from api.core.logging import uvicorn_log_config

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.bare_app:app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_config=uvicorn_log_config(),
    )


if __name__ == "__main__":
    main()
