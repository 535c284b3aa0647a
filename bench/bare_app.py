"""The framework ceiling: the fastest FastAPI answer of the balance call's shape, an
``async def`` endpoint with its path and its validated query parameter, answering
from memory. It is served as ``ledger serve`` serves the ledger (uvicorn, as many
worker processes, the masked access log), so that the gap between the two is what the
ledger does per request, not how it is served.

It answers the way the ledger's till routes do (a Response holding the model's JSON,
which skips FastAPI's response-model serialisation): measured here side by side, that
answered 4,773 calls/s where returning the model for FastAPI to serialise answered
3,801, so it is the honest ceiling.

    python -m bench.bare_app --port 8001 [--workers N]
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Response

from api.core.schemas import StoreId
from api.vouchers.schemas import VoucherOut


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    gc.freeze()  # as the ledger does once it has started (api.main)
    yield


app = FastAPI(title="bare", lifespan=_lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/vouchers/{code}", response_model=VoucherOut)
async def check_balance(code: str, store_id: Annotated[StoreId, Query()]) -> Response:
    answer = VoucherOut(code=code, balance=2500, currency="GBP", status="active", expires_at=None)
    return Response(answer.model_dump_json(), media_type="application/json")


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
