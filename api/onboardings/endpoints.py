"""Admin API: onboarding records, read and written by the onboarding flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.core.deps import AdminDep, ContextDep, ReadSession, WriteSession
from api.core.schemas import MAX_ROW_ID, RowIdPath, problem_responses
from api.onboardings import service
from api.onboardings.schemas import (
    STATUSES,
    IssuedOnboardingCredential,
    OnboardingClaim,
    OnboardingCreate,
    OnboardingEnding,
    OnboardingEndingRecorded,
    OnboardingOut,
    Stage,
    StageRecord,
)

router = APIRouter(
    prefix="/admin/onboardings",
    tags=["admin", "onboardings"],
    dependencies=[AdminDep],
    responses=problem_responses(401, 404, 409, 422),
)


@router.post(
    "",
    status_code=201,
    response_model=OnboardingOut,
    responses={200: {"model": OnboardingOut, "description": "The account's open onboarding."}},
)
def start_onboarding(
    body: OnboardingCreate, session: WriteSession, response: Response
) -> OnboardingOut:
    onboarding, created = service.start(session, body)
    session.commit()
    response.status_code = 201 if created else 200
    return OnboardingOut.model_validate(onboarding)


@router.get("", response_model=list[OnboardingOut])
def list_onboardings(
    session: ReadSession,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(STATUSES)})$")] = None,
    kind: Annotated[str | None, Query(pattern="^(onboarding|rotation)$")] = None,
    flow_run_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[^\x00]*$",
            description="The onboarding this flow run drives (its current claim).",
        ),
    ] = None,
) -> list[OnboardingOut]:
    found = service.list_onboardings(
        session, account_id=account_id, status=status, kind=kind, flow_run_id=flow_run_id
    )
    return [OnboardingOut.model_validate(o) for o in found]


@router.get("/{onboarding_id}", response_model=OnboardingOut)
def get_onboarding(onboarding_id: RowIdPath, session: ReadSession) -> OnboardingOut:
    return OnboardingOut.model_validate(service.get(session, onboarding_id))


@router.post("/{onboarding_id}/claim", response_model=OnboardingOut)
def claim_onboarding(
    onboarding_id: RowIdPath, body: OnboardingClaim, session: WriteSession
) -> OnboardingOut:
    onboarding = service.claim(session, onboarding_id, body.flow_run_id, body.expected_flow_run_id)
    session.commit()
    return OnboardingOut.model_validate(onboarding)


@router.post(
    "/{onboarding_id}/credential",
    status_code=201,
    response_model=IssuedOnboardingCredential,
    summary="Issue the onboarding's API user, revoking an undelivered one",
)
def issue_credential(
    onboarding_id: RowIdPath, session: WriteSession, context: ContextDep
) -> IssuedOnboardingCredential:
    issued, revoked = service.issue_credential(session, context, onboarding_id)
    session.commit()
    return IssuedOnboardingCredential(
        api_user_id=issued.user.id,
        username=issued.user.username,
        password=issued.password,
        revoked_api_user_id=revoked,
    )


@router.post("/{onboarding_id}/stages/{stage}", response_model=OnboardingOut)
def record_stage(
    onboarding_id: RowIdPath, stage: Stage, body: StageRecord, session: WriteSession
) -> OnboardingOut:
    onboarding = service.record(session, onboarding_id, stage, body)
    session.commit()
    return OnboardingOut.model_validate(onboarding)


@router.post(
    "/{onboarding_id}/ending",
    response_model=OnboardingEndingRecorded,
    summary="Record how a flow run of the onboarding ended (once per run)",
)
def record_ending(
    onboarding_id: RowIdPath, body: OnboardingEnding, session: WriteSession
) -> OnboardingEndingRecorded:
    onboarding, outcome = service.record_ending(session, onboarding_id, body)
    session.commit()
    return OnboardingEndingRecorded(
        outcome=outcome, onboarding=OnboardingOut.model_validate(onboarding)
    )
