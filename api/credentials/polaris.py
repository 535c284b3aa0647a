"""The account's Polaris credential: at most one active, and two only while a rotation
runs (the new one replaces the old until Polaris's tills use it or the grace ends).

The rule is checked here, under a lock on the account row, so the refusal can name the
active credential; the partial unique indexes on ``integration_users`` hold it even
against a writer that skips this module.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.context import LedgerContext
from api.core.errors import Conflict
from api.core.types import utcnow
from api.credentials import service
from api.credentials.models import IntegrationUser
from api.merchants import service as merchants
from api.merchants.models import Account


class PolarisCredentialExists(Conflict):
    def __init__(self, account_id: int, active: list[IntegrationUser]) -> None:
        names = "; ".join(
            f"integration user {u.id} ({u.username}, created {u.created_at:%Y-%m-%d})"
            for u in active
        )
        super().__init__(
            "polaris_credential_exists",
            f"Account {account_id} already has its Polaris credential: {names}. "
            "An account has one; rotate it (onboarding rotate) or revoke it first.",
            active_integration_user_ids=[u.id for u in active],
        )


def active(session: Session, account_id: int) -> list[IntegrationUser]:
    """The account's active Polaris credentials under the rule (surplus ones aside)."""
    return list(
        session.scalars(
            select(IntegrationUser)
            .where(
                IntegrationUser.account_id == account_id,
                IntegrationUser.purpose == "polaris",
                IntegrationUser.revoked_at.is_(None),
                IntegrationUser.surplus_at.is_(None),
            )
            .order_by(IntegrationUser.id)
        )
    )


def current(session: Session, account_id: int) -> IntegrationUser | None:
    """The credential the account's tills use now: during a rotation the old one, and
    once a till has called with the new one (which revokes the old), the new one."""
    found = active(session, account_id)
    return next((u for u in found if u.replaces_id is None), found[0] if found else None)


def issue(
    session: Session,
    context: LedgerContext,
    account_id: int,
    label: str,
    *,
    replaces: int | None = None,
) -> service.IssuedCredential:
    """Issue the account's Polaris credential, or (``replaces``) a rotation's new one."""
    _lock_account(session, account_id)
    existing = active(session, account_id)
    primary = [u for u in existing if u.replaces_id is None]
    if replaces is None and existing:
        raise PolarisCredentialExists(account_id, existing)
    if replaces is not None:
        if [u.id for u in primary] != [replaces]:
            raise Conflict(
                "not_the_active_credential",
                f"Integration user {replaces} is not account {account_id}'s active Polaris "
                "credential, so nothing can replace it.",
            )
        if len(existing) > 1:
            raise PolarisCredentialExists(account_id, existing)
    try:
        with session.begin_nested():
            issued = service.create(
                session, context, account_id, label, purpose="polaris", replaces_id=replaces
            )
    except IntegrityError:  # another transaction issued one meanwhile (SQLite: no row lock)
        raise PolarisCredentialExists(account_id, active(session, account_id)) from None
    return issued


def complete_rotation(session: Session, new_user_id: int) -> IntegrationUser:
    """Revoke the credential the new one replaces, and make the new one the current one.
    Completing a completed rotation changes nothing."""
    new = service.get(session, new_user_id)
    if new.replaces_id is not None:
        _lock_account(session, new.account_id)
        old = service.get(session, new.replaces_id)
        if old.revoked_at is None:
            old.revoked_at = utcnow()
        session.flush()  # the old one leaves the rule's index before the new one enters it
        new.replaces_id = None
        session.flush()
    return new


def _lock_account(session: Session, account_id: int) -> None:
    # PostgreSQL: one issuer per account at a time. SQLite has one writer anyway and
    # ignores FOR UPDATE; the unique indexes catch what slips between read and write.
    found = session.scalar(select(Account.id).where(Account.id == account_id).with_for_update())
    if found is None:
        merchants.get_account(session, account_id)  # raises AccountNotFound
