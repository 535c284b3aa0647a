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
def check_balance(
    code: Code,
    store_id: Annotated[StoreId, Query()],
    till: TillDep,
) -> VoucherOut:
    caller, voucher = till.read_voucher(store_id, service.lookup_code(code))
    return service.check_balance(caller, code, voucher)


@router.get(
    "/{code}/transactions",
    response_model=StatementOut,
    responses=problem_responses(401, 403, 404, 422, 429, 503),
    summary="Statement",
)
def statement(
    code: Code,
    store_id: Annotated[StoreId, Query()],
    till: TillDep,
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
) -> StatementOut:
    """The voucher's transactions, newest first, at most 100, with where each happened
    and the till's reference."""
    return till.read_with_voucher(
        store_id,
        service.lookup_code(code),
        lambda session, caller, voucher: service.statement(session, caller, code, voucher, before),
    )


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
