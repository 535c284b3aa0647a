"""The till API (shared/till-api.md): thin routes over vouchers.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.core.responses import commit_and_answer
from api.core.schemas import StoreId, problem_responses, write_responses
from api.credentials.dependencies import TillDep
from api.vouchers import service
from api.vouchers.schemas import (
    LoadRequest,
    MovementOut,
    RedeemRequest,
    ReversalOut,
    ReverseRequest,
    SaleOut,
    SellRequest,
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
def check_balance(
    code: Code,
    store_id: Annotated[StoreId, Query()],
    till: TillDep,
) -> VoucherOut:
    caller, voucher = till.read_voucher(store_id, service.lookup_code(code))
    return service.check_balance(caller, code, voucher)


@router.post(
    "",
    status_code=201,
    response_model=SaleOut,
    responses=write_responses(SaleOut),
    summary="Sell a voucher at the till",
)
def sell(body: SellRequest, till: TillDep) -> Response:
    with till.writing(body.store_id) as (session, caller):
        return commit_and_answer(session, service.sell(session, caller, body))


@router.post(
    "/{code}/redeem",
    status_code=201,
    response_model=MovementOut,
    responses=write_responses(MovementOut),
    summary="Redeem",
)
def redeem(code: Code, body: RedeemRequest, till: TillDep) -> Response:
    with till.writing(body.store_id) as (session, caller):
        return commit_and_answer(session, service.redeem(session, caller, code, body))


@router.post(
    "/{code}/load",
    status_code=201,
    response_model=MovementOut,
    responses=write_responses(MovementOut),
    summary="Top up (load)",
)
def load(code: Code, body: LoadRequest, till: TillDep) -> Response:
    with till.writing(body.store_id) as (session, caller):
        return commit_and_answer(session, service.load(session, caller, code, body))


@router.post(
    "/{code}/reverse",
    status_code=201,
    response_model=ReversalOut,
    responses=write_responses(ReversalOut),
    summary="Reverse",
)
def reverse(code: Code, body: ReverseRequest, till: TillDep) -> Response:
    with till.writing(body.store_id) as (session, caller):
        return commit_and_answer(session, service.reverse(session, caller, code, body))
