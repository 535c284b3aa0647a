"""The ASGI app: ``api.main:app``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.core import problems
from api.core.config import Settings, get_settings
from api.core.context import LedgerContext
from api.core.deps import AdminDep
from api.core.logging import install_masking
from api.credentials.endpoints import router as credentials_router
from api.merchants.endpoints import router as merchants_router
from api.offboardings.endpoints import router as offboardings_router
from api.onboardings.endpoints import router as onboardings_router
from api.reversals.endpoints import router as reversals_router
from api.store_id_links.endpoints import admin_router as store_id_links_admin_router
from api.store_id_links.endpoints import page_router as store_id_page_router
from api.till.gate import TillRequestGate
from api.till.runtime import TillRuntime
from api.till.validation import before_invalid_till_request
from api.vouchers.admin_endpoints import router as vouchers_admin_router
from api.vouchers.endpoints import router as till_router

DESCRIPTION = """Gift-card ledger.

* **Till API** (`/v1`): what Polaris tills call; HTTP Basic with the integration user's
  credentials. Errors are RFC 9457 problem details with a stable `code`.
* **Admin API** (`/admin`): accounts, sites, products, integration users, store IDs,
  ledgers and reconciliation; bearer token. Its document is at `/admin/openapi.json`,
  for the admin token.
"""

TILL_DESCRIPTION = """Gift-card ledger: the till API that Polaris tills call (`/v1`), HTTP Basic
with the integration user's credentials. Errors are RFC 9457 problem details with a
stable `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_masking()
        # The admin API's routes are sync: their database work runs in worker threads.
        # Python runs one thread at a time; dozens of them taking turns at the lock
        # each database call releases and retakes cost more CPU than the calls did
        # (bench/), so a few. The till path takes none (api.till).
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        app.state.ledger = LedgerContext.from_settings(settings)
        try:
            app.state.till = await TillRuntime.start(settings, app.state.ledger.db)
            # What start-up made (modules, routes, schemas) lives as long as the process:
            # out of the cyclic garbage collector's way, so that its passes walk only
            # what requests make (a tenth of a till call's CPU in bench/'s profiles).
            gc.freeze()
            try:
                yield
            finally:
                await app.state.till.close()
        finally:
            app.state.ledger.close()

    app = FastAPI(
        title="Gift-card ledger", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    problems.install(app, before_invalid_till_request=before_invalid_till_request)
    app.add_middleware(TillRequestGate)
    app.include_router(till_router)
    app.include_router(reversals_router)
    app.include_router(merchants_router)
    app.include_router(credentials_router)
    app.include_router(vouchers_admin_router)
    app.include_router(onboardings_router)
    app.include_router(offboardings_router)
    app.include_router(store_id_links_admin_router)
    app.include_router(store_id_page_router)

    @app.get("/healthz", tags=["ops"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/admin/openapi.json", include_in_schema=False, dependencies=[AdminDep])
    def admin_openapi() -> dict[str, Any]:
        """The whole document, the admin API's operations included: for the admin token."""
        return _openapi(app)

    app.openapi = lambda: _till_openapi(app)  # type: ignore[method-assign]
    return app


TILL_SECURITY = "tillBasic"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with error responses declared as application/problem+json
    and HTTP Basic declared on the till API's operations (the admin API's bearer
    scheme FastAPI declares itself, from its dependency)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[TILL_SECURITY] = {
        "type": "http",
        "scheme": "basic",
        "description": "The integration user's API username and password.",
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith(problems.TILL_PREFIX):
                operation["security"] = [{TILL_SECURITY: []}]
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
    app.openapi_schema = schema
    return schema


def _till_openapi(app: FastAPI) -> dict[str, Any]:
    """The public document (``/openapi.json``, ``/docs``): the till API alone, with
    only the schemas and security scheme its operations use."""
    cached: dict[str, Any] | None = getattr(app.state, "till_openapi", None)
    if cached is not None:
        return cached
    full = _openapi(app)
    paths = {p: o for p, o in full["paths"].items() if p.startswith(problems.TILL_PREFIX)}
    components = full.get("components", {})
    schemas = components.get("schemas", {})
    used: set[str] = set()
    pending = [paths]
    while pending:
        for name in _refs(pending.pop()):
            if name not in used and name in schemas:
                used.add(name)
                pending.append(schemas[name])
    document = {
        **{k: v for k, v in full.items() if k not in ("paths", "components")},
        "info": {**full["info"], "description": TILL_DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": {n: s for n, s in schemas.items() if n in used},
            "securitySchemes": {TILL_SECURITY: components["securitySchemes"][TILL_SECURITY]},
        },
    }
    app.state.till_openapi = document
    return document


def _refs(node: Any) -> Iterator[str]:
    """The names of the component schemas ``node`` refers to, directly."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


app = create_app()
