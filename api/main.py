"""The ASGI app: ``api.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.core import problems
from api.core.config import Settings, get_settings
from api.core.context import LedgerContext
from api.core.logging import install_masking
from api.credentials.endpoints import router as credentials_router
from api.credentials.gate import TillRequestGate
from api.merchants.endpoints import router as merchants_router
from api.onboardings.endpoints import router as onboardings_router
from api.vouchers.admin_endpoints import router as vouchers_admin_router
from api.vouchers.endpoints import router as till_router

DESCRIPTION = """Gift-card ledger.

* **Till API** (`/v1`): what Polaris tills call; HTTP Basic with the integration user's
  credentials. Errors are RFC 9457 problem details with a stable `code`.
* **Admin API** (`/admin`): accounts, sites, products, integration users, store IDs,
  ledgers and reconciliation; bearer token.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_masking()
        # The routes' database work runs in worker threads (FastAPI's sync routes).
        # Python runs one thread at a time; dozens of them taking turns at the lock
        # each database call releases and retakes cost more CPU than the calls did
        # (bench/: a few threads gave a third more till calls per second, and halved
        # their p99, against anyio's default of 40). Calls beyond them queue here.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        app.state.ledger = LedgerContext.from_settings(settings)
        try:
            yield
        finally:
            app.state.ledger.close()

    app = FastAPI(
        title="Gift-card ledger", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    problems.install(app)
    app.add_middleware(TillRequestGate)
    app.include_router(till_router)
    app.include_router(merchants_router)
    app.include_router(credentials_router)
    app.include_router(vouchers_admin_router)
    app.include_router(onboardings_router)

    @app.get("/healthz", tags=["ops"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with error responses declared as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
    app.openapi_schema = schema
    return schema


app = create_app()
