"""Admin API: create and revoke integration users (the till credentials)."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.deps import AdminDep, ContextDep, ReadSession, WriteSession
from api.core.schemas import RowIdPath, problem_responses
from api.credentials import polaris, service
from api.credentials.schemas import (
    CredentialStoreUseOut,
    IntegrationUserCreate,
    IntegrationUserOut,
    IssuedIntegrationUser,
)

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problem_responses(401, 404, 409, 422),
)


@router.post(
    "/accounts/{account_id}/integration-users",
    status_code=201,
    response_model=IssuedIntegrationUser,
    summary="Create an integration user (the password is in this response only)",
)
def create_integration_user(
    account_id: RowIdPath, body: IntegrationUserCreate, session: WriteSession, context: ContextDep
) -> IssuedIntegrationUser:
    if body.purpose == "polaris":
        issued = polaris.issue(session, context, account_id, body.label)
    else:
        issued = service.create(session, context, account_id, body.label)
    session.commit()
    return IssuedIntegrationUser(
        **IntegrationUserOut.model_validate(issued.user).model_dump(), password=issued.password
    )


@router.get("/accounts/{account_id}/integration-users", response_model=list[IntegrationUserOut])
def list_integration_users(account_id: RowIdPath, session: ReadSession) -> list[IntegrationUserOut]:
    return [
        IntegrationUserOut.model_validate(u) for u in service.list_for_account(session, account_id)
    ]


@router.get("/integration-users/{user_id}", response_model=IntegrationUserOut)
def get_integration_user(user_id: RowIdPath, session: ReadSession) -> IntegrationUserOut:
    return IntegrationUserOut.model_validate(service.get(session, user_id))


@router.get(
    "/integration-users/{user_id}/store-uses",
    response_model=list[CredentialStoreUseOut],
    summary="The stores the user's till calls came from, each with its first call's time",
)
def list_store_uses(user_id: RowIdPath, session: ReadSession) -> list[CredentialStoreUseOut]:
    return service.store_uses(session, user_id)


@router.post("/integration-users/{user_id}/revoke", response_model=IntegrationUserOut)
def revoke_integration_user(user_id: RowIdPath, session: WriteSession) -> IntegrationUserOut:
    user = service.revoke(session, user_id)
    session.commit()
    return IntegrationUserOut.model_validate(user)
