"""Each command's answer twice over: as lines a person reads, and as JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any
from uuid import UUID

import typer

from flows.cli.errors import CliError
from flows.cli.offboarding import OffboardingRun
from flows.cli.prefect_api import short_id
from flows.cli.rotating import AccountCredentials, OldRevoked, RotationStarted
from flows.cli.runs import RunView, Stage
from flows.cli.starting import Started
from flows.cli.store_id_entry import Submitted
from flows.cli.times import took, when


def emit_json(answer: Any) -> None:
    typer.echo(json.dumps(_plain(answer), indent=2))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def error(problem: CliError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": problem.message, "problems": problem.problems}, indent=2))
        return
    lines = [problem.message, *(f"  - {p}" for p in problem.problems)]
    typer.secho("\n".join(lines), fg=typer.colors.RED, err=True)


def started(answer: Started) -> None:
    sites = answer.parameters.get("sites", [])
    typer.echo(f"Started onboarding {answer.merchant} (account {answer.parameters['account_id']}).")
    typer.echo(f"  Run:        {answer.id}")
    if sites:
        typer.echo("  Adding:     " + ", ".join(site["name"] for site in sites))
    typer.echo(f"  Prefect UI: {answer.url}")
    typer.echo(f"  Follow it:  onboarding status {short_id(answer.id)}")


def run_detail(view: RunView) -> None:
    typer.echo(f"{view.name}  [{view.state}]")
    typer.echo(f"  Run:        {view.id}")
    if view.account_id is not None:
        typer.echo(f"  Account:    {view.account_id}")
    if view.polaris:
        typer.echo(f"  Polaris:    {view.polaris.get('name')} <{view.polaris.get('email')}>")
    typer.echo(f"  Now:        {view.situation.text}")
    if view.onboarding is not None:
        typer.echo(f"  Onboarding: {view.onboarding.text}")
    if view.store_id_link is not None:
        typer.echo(f"  Store-ID link: {view.store_id_link.text}")
    if view.form is not None:
        typer.echo("  For sites:  " + ", ".join(f"{s.name} ({s.site_id})" for s in view.form.sites))
        if view.form.problems:
            typer.echo("  The last answer was not used:")
            for problem in view.form.problems:
                typer.echo(f"    - {problem}")
    if view.stages:
        typer.echo("  Stages:")
        states = max(len(stage.state) for stage in view.stages)
        names = max(len(stage.name) for stage in view.stages)
        for stage in view.stages:
            line = f"    {stage.state:<{states}}  {stage.name:<{names}}  {_stage_times(stage)}"
            typer.echo(line.rstrip())
    elif view.stages is not None:
        typer.echo("  Stages:     none has run yet")
    typer.echo(f"  Prefect UI: {view.url}")
    if view.onboarding is not None and view.onboarding.restart:
        typer.echo("  It picks up where it stopped when started again:")
        typer.echo(f"    {view.onboarding.restart}")
    if view.form is not None:
        example = " ".join(f'--store "{s.name}=STORE_ID"' for s in view.form.sites)
        typer.echo(f"  Enter them: onboarding store-ids {short_id(view.id)} {example}")


def _stage_times(stage: Stage) -> str:
    if stage.started is None:
        return ""
    text = when(stage.started, seconds=True)
    if stage.finished is not None:
        text += f" ({took((stage.finished - stage.started).total_seconds())})"
    return text


def run_list(views: list[RunView], waiting_only: bool) -> None:
    if not views:
        typer.echo(
            "No onboarding is waiting for Polaris's store IDs."
            if waiting_only
            else "No onboarding runs yet."
        )
        return
    if waiting_only:
        typer.echo(f"Waiting for Polaris's store IDs ({len(views)}), oldest first:")
    else:
        typer.echo(f"Onboarding runs ({len(views)}), newest first:")
    width = max(len(view.name) for view in views)
    for view in views:
        contact = f"  Polaris: {view.polaris.get('email')}" if view.polaris else ""
        typer.echo(f"  {short_id(view.id)}  {view.name:<{width}}  {view.situation.text}{contact}")
    typer.echo("Details: onboarding status RUN")


def submitted(answer: Submitted) -> None:
    typer.echo(f"Store IDs sent to run {short_id(answer.id)} ({answer.name}):")
    for entry in answer.store_ids:
        typer.echo(f"  {entry.site} (site {entry.site_id}): {entry.store_id}")
    typer.echo(
        "The run resumes, checks them once more, saves them and verifies each store as a till."
    )
    typer.echo(f"Follow it: onboarding status {short_id(answer.id)}  ({answer.url})")


def rotation_started(answer: RotationStarted) -> None:
    typer.echo(f"Started rotating account {answer.account_id}'s Polaris credential.")
    typer.echo(f"  Run:        {answer.id}")
    typer.echo(f"  Prefect UI: {answer.url}")
    typer.echo(
        "  The old credential keeps working until Polaris's tills use the new one, or until "
        f"the grace period ends; to revoke it sooner: onboarding rotate --account "
        f"{answer.account_id} --revoke-old-now"
    )


def old_revoked(answer: OldRevoked) -> None:
    typer.echo(f"Asked rotation run {answer.run_id} to revoke the old credential now.")
    typer.echo(f"  Prefect UI: {answer.url}")


def account_credentials(answer: AccountCredentials) -> None:
    typer.echo(f"{answer.merchant} (account {answer.account_id})")
    typer.echo("  Onboardings and rotations:")
    for o in answer.onboardings or [
        {"id": "-", "kind": "none yet", "status": "", "flow_run_id": ""}
    ]:
        typer.echo(
            f"    {o['id']}  {o['kind']:<10} {o['status']:<20} run {o['flow_run_id'] or '-'}"
        )
    typer.echo("  Active Polaris credentials:")
    active_ids = {u["id"] for u in answer.active}
    for u in answer.active:
        role = ""
        if u["replaces_id"] in active_ids:
            role = f" (replacing {u['replaces_id']} during a rotation)"
        elif u["replaces_id"]:
            role = f" (its tills switched; {u['replaces_id']} is revoked)"
        typer.echo(f"    {u['id']}  {u['username']}  created {u['created_at'][:10]}{role}")
    if not answer.active:
        typer.echo("    none")
    if answer.surplus:
        typer.secho(
            "  More active Polaris credentials than the one an account should have (from "
            "before the one-credential rule); revoke those Polaris does not use:",
            fg=typer.colors.YELLOW,
        )
        for u in answer.surplus:
            typer.echo(
                f"    {u['id']}  {u['username']}  created {u['created_at'][:10]}  "
                f"(revoke: POST /admin/integration-users/{u['id']}/revoke)"
            )


def offboarding_started(answer: OffboardingRun) -> None:
    keep = not answer.parameters.get("clear_store_ids", True)
    typer.echo(
        f"Started offboarding {answer.merchant} (account {answer.parameters['account_id']}), "
        + ("keeping" if keep else "clearing")
        + " its store IDs."
    )
    typer.echo(f"  Run:        {answer.id}")
    typer.echo(f"  Prefect UI: {answer.url}")


def offboarding_outcome(answer: OffboardingRun, waited: float) -> None:
    if answer.state_type is None or answer.state_type in {"SCHEDULED", "PENDING", "RUNNING"}:
        typer.echo(
            f"Still {(answer.state or 'scheduled').lower()} after {waited:g} s; "
            f"follow it in the Prefect UI: {answer.url}"
        )
        return
    if answer.checklist:
        for line in answer.checklist.splitlines():
            typer.echo(f"  {line}".rstrip())
    typer.echo(f"Run {answer.state}" + (f": {answer.message}" if answer.message else ""))
