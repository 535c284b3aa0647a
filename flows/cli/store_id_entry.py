"""`onboarding store-ids`: Polaris's store IDs for a waiting run, checked exactly as
the flow checks them (``flows.store_ids.problems_with`` against the ledger's sites)
and then given to the run through the same input the Prefect UI form submits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.responses import SetStateStatus
from prefect.exceptions import PrefectHTTPStatusError
from prefect.utilities.urls import url_for
from pydantic import ValidationError

from flows.cli.errors import CliError
from flows.cli.prefect_api import find_run, prefect_errors, short_id
from flows.cli.runs import StoreIdForm, read_form, read_view
from flows.ledger import LedgerAdmin
from flows.settings import get_settings
from flows.store_ids import field_name, problems_with, store_id_form

NOTHING_SENT = "Nothing was submitted; run {run} is still waiting for store IDs:"


@dataclass(frozen=True)
class SubmittedStoreId:
    site_id: int
    site: str
    store_id: str


@dataclass(frozen=True)
class Submitted:
    id: UUID
    name: str
    url: str | None
    store_ids: list[SubmittedStoreId]


def submit_store_ids(client: SyncPrefectClient, ref: str, entries: list[str]) -> Submitted:
    run = find_run(client, ref)
    form = read_form(client, run)
    if form is None:
        view = read_view(client, run)
        raise CliError(
            f"Run {short_id(run.id)} ({run.name}) is not waiting for store IDs. "
            f"Now: {view.situation.text}"
        )
    account_id = int((run.parameters or {})["account_id"])
    with LedgerAdmin(get_settings()) as ledger:
        account_sites = ledger.sites(account_id)
    scope = _sites_in_form(form, account_sites)
    store_ids, problems = parse_entries(entries, scope)
    answer = {site["id"]: store_ids.get(site["id"], "") for site in scope}
    problems += problems_with(answer, scope, account_sites)
    if not problems:
        problems += _form_problems(answer, scope)
    if problems:
        raise CliError(NOTHING_SENT.format(run=short_id(run.id)), problems)
    _resume(client, run, {field_name(site_id): value for site_id, value in answer.items()})
    names = {site["id"]: site["name"] for site in scope}
    return Submitted(
        id=run.id,
        name=run.name,
        url=url_for("flow-run", obj_id=run.id),
        store_ids=[SubmittedStoreId(s, names[s], value) for s, value in answer.items()],
    )


def _sites_in_form(form: StoreIdForm, account_sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {site["id"]: site for site in account_sites}
    missing = [f"{s.name} (site {s.site_id})" for s in form.sites if s.site_id not in by_id]
    if missing:
        raise CliError(
            "The run's form asks for sites the ledger no longer has: " + ", ".join(missing) + "."
        )
    return [by_id[s.site_id] for s in form.sites]


def parse_entries(
    entries: list[str], scope: list[dict[str, Any]]
) -> tuple[dict[int, str], list[str]]:
    """``SITE=STORE_ID`` entries by site ID, and what is wrong with the rest. SITE is
    the site's ID or its exact name."""
    store_ids: dict[int, str] = {}
    problems: list[str] = []
    for entry in entries:
        # A store ID has no '=' in practice; a site's name might.
        site_ref, sep, value = entry.rpartition("=")
        if not sep or not site_ref.strip():
            problems.append(f"{entry!r} is not SITE=STORE_ID.")
            continue
        site, problem = _site_for(site_ref.strip(), scope)
        if problem:
            problems.append(problem)
        elif site is not None:
            if site["id"] in store_ids:
                problems.append(f"{site['name']} is given more than once.")
            store_ids[site["id"]] = value.strip()
    return store_ids, problems


def _site_for(ref: str, scope: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str | None]:
    by_id = [site for site in scope if ref.isdigit() and site["id"] == int(ref)]
    by_name = [site for site in scope if site["name"] == ref]
    if by_id:
        return by_id[0], None
    if len(by_name) == 1:
        return by_name[0], None
    if by_name:
        ids = " or ".join(str(site["id"]) for site in by_name)
        return None, f"{ref!r} names more than one site of this onboarding; use its ID ({ids})."
    listed = ", ".join(f"{site['name']} ({site['id']})" for site in scope)
    return None, f"{ref!r} is not one of this onboarding's sites: {listed}."


def _form_problems(answer: dict[int, str], scope: list[dict[str, Any]]) -> list[str]:
    """What the form itself refuses (its length limits), in the form's words."""
    names = {field_name(site["id"]): site["name"] for site in scope}
    try:
        store_id_form(scope).model_validate({field_name(s): v for s, v in answer.items()})
    except ValidationError as error:
        return [f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}." for e in error.errors()]
    return []


def _resume(client: SyncPrefectClient, run: FlowRun, run_input: dict[str, str]) -> None:
    """The resume call the Prefect UI's form makes. Not ``prefect.flow_runs.
    resume_flow_run``: that passes an ABORT answer ("not paused": another answer
    reached the run between our look and our call) over in silence, as if ours had
    been used."""
    answered_first = CliError(
        f"Run {short_id(run.id)} stopped waiting before the store IDs were sent (were they "
        "entered in the Prefect UI, or by Polaris through the store-ID link?); nothing was "
        "submitted."
    )
    with prefect_errors():
        try:
            result = client.resume_flow_run(run.id, run_input=run_input)
        except PrefectHTTPStatusError as error:
            # 409: another answer raced this one to the run and was stored first (the
            # server rolled this one back).
            if error.response.status_code == 409:
                raise answered_first from None
            raise
    if result.status == SetStateStatus.ACCEPT:
        return
    if result.status == SetStateStatus.ABORT:
        raise answered_first
    if result.status == SetStateStatus.REJECT and result.state and result.state.is_failed():
        raise CliError(f"Run {short_id(run.id)} waited too long and has failed.")
    reason = getattr(result.details, "reason", None) or result.status.value
    raise CliError(f"The Prefect server refused the store IDs: {reason}")
