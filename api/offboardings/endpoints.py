"""Admin API: offboarding a merchant from Polaris (revoke its Polaris credentials,
clear or keep its store IDs), and the record the offboarding flow keeps of it."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.deps import AdminDep, ReadSession, WriteSession
from api.core.schemas import RowIdPath, problem_responses
from api.offboardings import service
from api.offboardings.schemas import (
    ClearedStoreId,
    EmailRecipient,
    EmailSent,
    OffboardingOut,
    OffboardRequest,
    OffboardResult,
    RevokedCredential,
)

router = APIRouter(
    prefix="/admin",
    tags=["admin", "offboardings"],
    dependencies=[AdminDep],
    responses=problem_responses(401, 404, 422),
)


@router.post(
    "/accounts/{account_id}/polaris/offboard",
    response_model=OffboardResult,
    responses=problem_responses(409),
    summary="Take the merchant off Polaris: revoke its Polaris credentials, clear or keep "
    "its store IDs (one transaction; repeating it changes nothing)",
)
def offboard(account_id: RowIdPath, body: OffboardRequest, session: WriteSession) -> OffboardResult:
    done = service.offboard(
        session, account_id, clear_store_ids=body.clear_store_ids, flow_run_id=body.flow_run_id
    )
    session.commit()
    return OffboardResult(
        changed=done.changed,
        credentials_revoked=[RevokedCredential(**c) for c in done.credentials_revoked],
        store_ids_cleared=[ClearedStoreId(**s) for s in done.store_ids_cleared],
        previous_flow_run_id=done.previous_flow_run_id,
        offboarding=None
        if done.offboarding is None
        else OffboardingOut.model_validate(done.offboarding),
    )


@router.get("/offboardings/{offboarding_id}", response_model=OffboardingOut)
def get_offboarding(offboarding_id: RowIdPath, session: ReadSession) -> OffboardingOut:
    return OffboardingOut.model_validate(service.get(session, offboarding_id))


@router.post(
    "/offboardings/{offboarding_id}/emails/{recipient}",
    response_model=OffboardingOut,
    summary="Note that a confirmation went out (noting it again keeps the first)",
)
def record_email(
    offboarding_id: RowIdPath, recipient: EmailRecipient, body: EmailSent, session: WriteSession
) -> OffboardingOut:
    offboarding = service.record_email(session, offboarding_id, recipient, body.message_id)
    session.commit()
    return OffboardingOut.model_validate(offboarding)
