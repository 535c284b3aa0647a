"""Admin API: a voucher's ledger and the reconciliation report."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.deps import AdminDep, ReadSession
from api.core.schemas import problem_responses
from api.vouchers import admin_service
from api.vouchers.admin_schemas import ReconciliationOut, VoucherLedgerOut

router = APIRouter(
    prefix="/admin", tags=["admin"], dependencies=[AdminDep], responses=problem_responses(401, 422)
)


@router.get(
    "/vouchers/{code}/ledger", response_model=VoucherLedgerOut, responses=problem_responses(404)
)
def voucher_ledger(code: str, session: ReadSession) -> VoucherLedgerOut:
    return admin_service.voucher_ledger(session, code)


@router.get("/reconciliation", response_model=ReconciliationOut)
def reconciliation(session: ReadSession) -> ReconciliationOut:
    """Every voucher's balance against the sum of its ledger entries."""
    return admin_service.reconcile(session)
