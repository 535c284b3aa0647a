"""Integration users: creating and revoking them (tills authenticate with them in
api.till.authentication)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.errors import IntegrationUserNotFound
from api.core.types import utcnow
from api.credentials import passwords, repository
from api.credentials.models import IntegrationUser
from api.credentials.schemas import CredentialStoreUseOut
from api.merchants import service as merchants


@dataclass(frozen=True)
class IssuedCredential:
    user: IntegrationUser
    password: str  # plaintext: returned once in the creating response, never stored


def create(
    session: Session,
    context: LedgerContext,
    account_id: int,
    label: str,
    purpose: str = "other",
    replaces_id: int | None = None,
) -> IssuedCredential:
    merchants.get_account(session, account_id)
    password = passwords.new_password()
    user = IntegrationUser(
        account_id=account_id,
        username=passwords.new_username(account_id),
        password_hash=passwords.digest(password),
        label=label,
        purpose=purpose,
        replaces_id=replaces_id,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return IssuedCredential(user=user, password=password)


def revoke(session: Session, user_id: int) -> IntegrationUser:
    """Revoke a user; revoking one already revoked keeps its first revocation time."""
    user = repository.get(session, user_id)
    if user is None:
        raise IntegrationUserNotFound(f"No integration user {user_id}.")
    if user.revoked_at is None:
        user.revoked_at = utcnow()
        session.flush()
    return user


def get(session: Session, user_id: int) -> IntegrationUser:
    user = repository.get(session, user_id)
    if user is None:
        raise IntegrationUserNotFound(f"No integration user {user_id}.")
    return user


def list_for_account(session: Session, account_id: int) -> list[IntegrationUser]:
    merchants.get_account(session, account_id)
    return repository.list_for_account(session, account_id)


def store_uses(session: Session, user_id: int) -> list[CredentialStoreUseOut]:
    """Where the user's till calls have come from (noted by api.till.store_uses)."""
    get(session, user_id)
    return [
        CredentialStoreUseOut(
            store_id=store_id, site_id=site_id, site_name=site_name, first_used_at=first_used_at
        )
        for store_id, site_id, site_name, first_used_at in repository.store_uses(session, user_id)
    ]
