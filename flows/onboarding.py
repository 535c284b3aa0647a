"""The Polaris onboarding: the seed's manual checklist as one Prefect flow.

    add sites → create API user → build encrypted file → email Polaris → text password
    → await store IDs (suspended: no process held) → save store IDs → verify integration

The ledger's onboarding record says which stages are done, so a resumed, retried,
crashed or second-started run repeats no side effect and skips none. On resume from
suspension Prefect runs this function again from the top: the finished stages find
their records and pass straight through, and each earlier store-ID answer is replayed
from Prefect's run input in order.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect import flow, get_client, get_run_logger, runtime
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import suspend_flow_run
from prefect.states import Completed, Failed, State

from contract.onboardings import OnboardingOut
from flows import checklist, stages
from flows.deployments import ONBOARDING_FLOW
from flows.endings import Ending, on_crashed, on_failure, tell_ending
from flows.ledger import LedgerAdmin, LedgerRefused, with_retries
from flows.onboarding_scope import (
    already_onboarded,
    quiet_parameter_failures,
    refusal_of_parameters,
)
from flows.parameters import AccountId, PolarisContact, ProductId, SitesToAdd
from flows.run_names import name_run
from flows.settings import get_settings
from flows.store_id_link_stage import ensure_link_emailed
from flows.store_ids import answer_by_site, form_description, store_id_form
from flows.verification import VerificationFailed

# States in which another flow run may still be driving an onboarding.
LIVE_STATES = {"SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"}


quiet_parameter_failures()


class OnboardingBusy(Exception):
    pass


@flow(
    name=ONBOARDING_FLOW,
    log_prints=False,
    persist_result=False,
    validate_parameters=True,
    # What these do not see (a store-ID wait that expired, a cancel from the UI), the
    # automation on Prefect's events does: flows.endings says who sees what.
    on_failure=[on_failure],
    on_crashed=[on_crashed],
)
def polaris_onboarding(
    account_id: AccountId,
    polaris: PolarisContact,
    sites: SitesToAdd | None = None,
    product_id: ProductId = None,
) -> dict[str, Any] | State:
    """Onboard a merchant onto Polaris EPOS tills, end to end."""
    settings = get_settings()
    logger = get_run_logger()
    run_id = str(runtime.flow_run.id)
    # Each ledger call here is retried while the ledger is unreachable or answers 5xx
    # (the stages, as tasks, have retries of their own): one blip fails no run.
    with LedgerAdmin(settings) as ledger:
        try:
            account = with_retries(lambda: ledger.account(account_id))
            merchant = account["name"]
            done = already_onboarded(ledger, account_id, sites or [], run_id)
            if done is not None:  # a Retry, or the same start again: no side effect
                logger.info(done.message)
                checklist.publish_nothing_to_do(merchant, done)
                return Completed(message=done.message)
            name_run(run_id, f"onboard {merchant}")
            contact = polaris.model_dump(mode="json")
            onboarding = with_retries(
                lambda: ledger.start_onboarding(account_id, contact, product_id)
            )
        except LedgerRefused as refusal:
            sentence = refusal_of_parameters(refusal)
            if sentence is None:
                raise
            # One plain sentence, in the log and as the run's state: the parameters
            # are wrong, and a traceback from inside the engine would not say more.
            logger.error(sentence)
            return Failed(message=sentence)
        onboarding = claim(ledger, onboarding, run_id)
    try:
        return _run_stages(onboarding, merchant, account, sites or [], run_id)
    except Exception as error:
        logger.error("Onboarding of %s failed: %s", merchant, error)
        _record_failure(error)
        raise


def _run_stages(
    onboarding: OnboardingOut,
    merchant: str,
    account: dict[str, Any],
    sites: SitesToAdd,
    run_id: str,
) -> dict[str, Any]:
    checklist.publish(merchant, onboarding)
    scope = stages.add_sites(onboarding, merchant, sites)
    onboarding = reload(onboarding)
    checklist.publish(merchant, onboarding)

    if onboarding.uses_existing_credential:
        if onboarding.email_sent_at is None:  # the API user Polaris has covers these sites
            stages.email_polaris_new_sites(onboarding, merchant, scope)
            onboarding = reload(onboarding)
            checklist.publish(merchant, onboarding)
    elif not onboarding.credentials_delivered:
        user = stages.create_api_user(onboarding, merchant)
        checklist.publish(merchant, onboarding, frozenset({"api_user"}))
        file = stages.build_encrypted_file(onboarding, merchant, account, scope, user)
        checklist.publish(merchant, onboarding, frozenset({"api_user", "file_built"}))
        stages.email_polaris(onboarding, merchant, scope, file)
        checklist.publish(merchant, reload(onboarding))
        stages.text_password(onboarding, merchant, file)
        onboarding = reload(onboarding)
        checklist.publish(merchant, onboarding)

    if onboarding.store_ids_saved_at is None:
        ensure_link_emailed(onboarding, merchant, scope)  # a restarted run emails its own
        store_ids = _await_store_ids(onboarding, merchant, scope)
        stages.save_store_ids(onboarding, merchant, store_ids)
        onboarding = reload(onboarding)
        checklist.publish(merchant, onboarding)

    results = stages.verify_integration(onboarding, merchant, account, run_id[:8])
    onboarding = reload(onboarding)
    checklist.publish(merchant, onboarding)
    return {
        "onboarding_id": onboarding.id,
        "status": onboarding.status,
        "calls_verified": len(results),
    }


def _await_store_ids(
    onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]]
) -> dict[int, str]:
    """Suspend (the process exits) until the store IDs come through the form; ask
    again, with the reasons on the form, until an answer passes the checks."""
    form = store_id_form(sites)
    timeout = get_settings().store_ids_wait_seconds
    problems: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        answer = suspend_flow_run(
            wait_for_input=form.with_initial_data(description=form_description(merchant, problems)),
            timeout=timeout,
        )
        store_ids = answer_by_site(answer, sites)
        problems = stages.check_store_ids(onboarding, merchant, attempt, store_ids, sites)
        if not problems:
            return store_ids


def claim(ledger: LedgerAdmin, onboarding: OnboardingOut, run_id: str) -> OnboardingOut:
    """Take the onboarding over unless another live flow run is driving it."""
    current = onboarding.flow_run_id
    if current and current != run_id:
        state = _flow_run_state(current)
        if state in LIVE_STATES:
            raise OnboardingBusy(
                f"Onboarding {onboarding.id} is already being run by flow run {current} "
                f"(state {state.lower()}); follow that run instead."
            )
    try:
        return with_retries(lambda: ledger.claim(onboarding.id, run_id, expected=current))
    except LedgerRefused as refusal:
        raise OnboardingBusy(refusal.detail) from None


def _flow_run_state(flow_run_id: str) -> str | None:
    """The run's state type, or None if Prefect has no such run (so nothing drives
    the onboarding). Any other error (the Prefect API down or answering 5xx, after the
    client's own retries) propagates: a run we cannot see may well be alive, and
    taking its onboarding over would have two runs drive it."""
    try:
        run_id = UUID(flow_run_id)
    except ValueError:  # not a Prefect run's ID at all
        return None
    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
    except ObjectNotFound:
        return None
    return run.state.type.value if run.state else None


def reload(onboarding: OnboardingOut) -> OnboardingOut:
    with LedgerAdmin(get_settings()) as ledger:
        return with_retries(lambda: ledger.onboarding(onboarding.id))


def _record_failure(error: Exception) -> None:
    """Record and tell a failure the run caught, naming the site and call if it was a
    till call; the on_failure hook and the automation then find it recorded."""
    logger = get_run_logger()
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:  # pragma: no cover - always in a run
        return
    where = (
        {"site_name": error.site, "call": error.call}
        if isinstance(error, VerificationFailed)
        else {}
    )
    try:
        tell_ending(context.flow_run, Ending("failed", str(error)), logger, **where)
    except Exception as untold:  # the ledger may be the thing that is down
        logger.warning("Could not record or tell the failure: %s", untold)
