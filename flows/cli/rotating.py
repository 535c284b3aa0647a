"""`onboarding rotate` and `onboarding status --account`: an account's Polaris
credential, rotated and looked at from a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.responses import SetStateStatus
from prefect.utilities.urls import url_for

from flows.cli.errors import CliError
from flows.cli.prefect_api import prefect_errors, start_deployment
from flows.deployments import ROTATION_DEPLOYMENT
from flows.ledger import LedgerAdmin
from flows.settings import get_settings


@dataclass(frozen=True)
class RotationStarted:
    id: UUID
    name: str
    url: str | None
    account_id: int


@dataclass(frozen=True)
class OldRevoked:
    run_id: str
    url: str | None
    onboarding_id: int


@dataclass(frozen=True)
class AccountCredentials:
    account_id: int
    merchant: str
    onboardings: list[dict[str, Any]]
    active: list[dict[str, Any]]
    surplus: list[dict[str, Any]]


def start_rotation(account_id: int) -> RotationStarted:
    with LedgerAdmin(get_settings()) as ledger:
        ledger.account(account_id)  # an unknown account fails here, not as a run
    run = start_deployment(ROTATION_DEPLOYMENT, {"account_id": account_id})
    return RotationStarted(run.id, run.name, url_for("flow-run", obj_id=run.id), account_id)


def revoke_old_now(client: SyncPrefectClient, account_id: int) -> OldRevoked:
    """Resume the account's waiting rotation with "revoke the old credential now", the
    same answer the run's form in the Prefect UI gives."""
    with LedgerAdmin(get_settings()) as ledger:
        waiting = ledger.onboardings(
            account_id=account_id, kind="rotation", status="awaiting_first_use"
        )
    if not waiting or waiting[-1].flow_run_id is None:
        raise CliError(f"Account {account_id} has no rotation waiting for Polaris's tills.")
    rotation = waiting[-1]
    run_id = rotation.flow_run_id
    assert run_id is not None
    with prefect_errors():
        result = client.resume_flow_run(UUID(run_id), run_input={"revoke_old_now": True})
    if result.status != SetStateStatus.ACCEPT:
        reason = getattr(result.details, "reason", None) or result.status.value
        raise CliError(f"Rotation run {run_id} is not waiting any more ({reason}).")
    return OldRevoked(run_id, url_for("flow-run", obj_id=run_id), rotation.id)


def account_credentials(account_id: int) -> AccountCredentials:
    with LedgerAdmin(get_settings()) as ledger:
        merchant = str(ledger.account(account_id)["name"])
        records = ledger.onboardings(account_id=account_id)
        users = [
            u
            for u in ledger.integration_users(account_id)
            if u["purpose"] == "polaris" and u["is_active"]
        ]
    return AccountCredentials(
        account_id=account_id,
        merchant=merchant,
        onboardings=[
            {"id": o.id, "kind": o.kind, "status": o.status, "flow_run_id": o.flow_run_id}
            for o in records
        ],
        active=[u for u in users if u["surplus_at"] is None],
        surplus=[u for u in users if u["surplus_at"] is not None],
    )
