"""The till API (shared/till-api.md): thin routes over the till backend (api.till)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.core.schemas import StoreId, problem_responses, write_responses
from api.till.dependencies import answer
from api.vouchers.schemas import (
    LoadRequest,
    MovementOut,
    RedeemRequest,
    ReversalOut,
    ReverseRequest,
    SaleOut,
    SellRequest,
    StatementOut,
    VoucherOut,
)

router = APIRouter(prefix="/v1/vouchers", tags=["till"])

Code = Annotated[
    str,
    Path(description="The 19-digit card number; spaces and dashes are ignored."),
]


@router.get(
    "/{code}",
    response_model=VoucherOut,
    responses=problem_responses(401, 403, 404, 422, 429, 503),
    summary="Check balance",
)
async def check_balance(
    code: Code,
    store_id: Annotated[StoreId, Query()],
    request: Request,
) -> Response:
    return await answer(
        request, store_id, lambda backend, caller: backend.balance(caller, store_id, code)
    )


@router.get(
    "/{code}/transactions",
    response_model=StatementOut,
    responses=problem_responses(401, 403, 404, 422, 429, 503),
    summary="Statement",
)
async def statement(
    code: Code,
    store_id: Annotated[StoreId, Query()],
    request: Request,
    before: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[ -~]{1,64}$",
            description="A transaction_id of this voucher: the 100 transactions before it "
            "(the last one of a page gives the next page). One that names none of this "
            "voucher's transactions gives none.",
        ),
    ] = None,
) -> Response:
    """The voucher's transactions, newest first, at most 100, with where each happened
    and the till's reference."""
    return await answer(
        request,
        store_id,
        lambda backend, caller: backend.statement(caller, store_id, code, before),
    )


@router.post(
    "",
    status_code=201,
    response_model=SaleOut,
    responses=write_responses(SaleOut),
    summary="Sell a voucher at the till",
)
async def sell(body: SellRequest, request: Request) -> Response:
    return await answer(request, body.store_id, lambda backend, caller: backend.sell(caller, body))


@router.post(
    "/{code}/redeem",
    status_code=201,
    response_model=MovementOut,
    responses=write_responses(MovementOut),
    summary="Redeem",
)
async def redeem(code: Code, body: RedeemRequest, request: Request) -> Response:
    return await answer(
        request, body.store_id, lambda backend, caller: backend.redeem(caller, code, body)
    )


@router.post(
    "/{code}/load",
    status_code=201,
    response_model=MovementOut,
    responses=write_responses(MovementOut),
    summary="Top up (load)",
)
async def load(code: Code, body: LoadRequest, request: Request) -> Response:
    return await answer(
        request, body.store_id, lambda backend, caller: backend.load(caller, code, body)
    )


@router.post(
    "/{code}/reverse",
    status_code=201,
    response_model=ReversalOut,
    responses=write_responses(ReversalOut),
    summary="Reverse",
)
async def reverse(code: Code, body: ReverseRequest, request: Request) -> Response:
    return await answer(
        request, body.store_id, lambda backend, caller: backend.reverse(caller, code, body)
    )
