"""The till API's void by reference (shared/till-api.md): a thin route over the till
backend (api.till)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.core.schemas import write_responses
from api.reversals.schemas import VoidOut, VoidRequest
from api.till.dependencies import answer

router = APIRouter(prefix="/v1", tags=["till"])


@router.post(
    "/reversals",
    status_code=201,
    response_model=VoidOut,
    responses=write_responses(VoidOut, 401, 403, 409, 413, 422, 429, 503),
    summary="Void by the till's own reference (for timeouts)",
)
async def void(body: VoidRequest, request: Request) -> Response:
    """Void a sale, redemption or top-up by the `reference` the till sent with it, at
    the same `store_id`, whether or not the ledger received it: a reference it never
    received is recorded as voided, and the original arriving later gets `409
    transaction_voided`."""
    return await answer(request, body.store_id, lambda backend, caller: backend.void(caller, body))
