"""An onboarding run as an account manager asks about it: its stages (the flow's
task runs), the store-ID form it waits on, and in plain words what it is doing or
waiting for."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, State, TaskRun
from prefect.client.schemas.sorting import TaskRunSort
from prefect.utilities.urls import url_for

from flows.cli.onboarding_record import OnboardingRecordView
from flows.cli.store_id_link import StoreIdLinkView
from flows.cli.times import age, when
from flows.store_ids import FIELD_PREFIX

# Prefect state names that mean "will run again at a set time".
RETRY_STATES = {"AwaitingRetry", "Retrying"}
# A served flow or a worker polls every few seconds; longer than this, say so.
PICK_UP_EXPECTED_WITHIN = 120
# The form's description lists the reasons the last answer was not used after this.
REJECTION_HEADING = "**The last answer was not used:**"


@dataclass(frozen=True)
class FormSite:
    site_id: int
    name: str
    field: str


@dataclass(frozen=True)
class StoreIdForm:
    """The store-ID form of a suspended run: one field per site, and why the last
    answer (if any) was not used."""

    sites: list[FormSite]
    problems: list[str]


@dataclass(frozen=True)
class Situation:
    text: str
    waiting_for: str | None  # "store_ids", "worker", "retry", "resume" or None
    since: datetime | None


@dataclass(frozen=True)
class Stage:
    name: str
    state: str
    state_type: str
    started: datetime | None
    finished: datetime | None
    runs: int  # a resumed run passes its finished stages again; each pass is a task run


@dataclass(frozen=True)
class RunView:
    id: UUID
    name: str
    state: str
    state_type: str
    state_message: str | None
    account_id: int | None
    polaris: dict[str, Any] | None
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    url: str | None
    situation: Situation
    form: StoreIdForm | None
    stages: list[Stage] | None = field(default=None)
    store_id_link: StoreIdLinkView | None = field(default=None)
    onboarding: OnboardingRecordView | None = field(default=None)


def read_view(client: SyncPrefectClient, run: FlowRun, with_stages: bool = False) -> RunView:
    states = client.read_flow_run_states(run.id) if _type(run.state) == "PAUSED" else []
    form = read_form(client, run)
    tasks = _task_runs(client, run.id) if with_stages or _type(run.state) == "RUNNING" else []
    parameters = run.parameters or {}
    polaris = parameters.get("polaris")
    account = parameters.get("account_id")
    return RunView(
        id=run.id,
        name=run.name,
        state=_name(run.state),
        state_type=_type(run.state) or "UNKNOWN",
        state_message=run.state.message if run.state else None,
        account_id=account if isinstance(account, int) else None,
        polaris=polaris if isinstance(polaris, dict) else None,
        created=run.created,
        started=run.start_time,
        finished=run.end_time,
        url=url_for("flow-run", obj_id=run.id),
        situation=situation(run, states, tasks, form, datetime.now(UTC)),
        form=form,
        stages=stages(tasks) if with_stages else None,
    )


def read_form(client: SyncPrefectClient, run: FlowRun) -> StoreIdForm | None:
    """The store-ID form the run is suspended on, read from the same run input the
    Prefect UI renders; None when the run is not waiting on one."""
    keyset = run.state.state_details.run_input_keyset if run.state else None
    if _type(run.state) != "PAUSED" or not keyset:
        return None
    schema = json.loads(client.read_flow_run_input(run.id, keyset["schema"]))
    description = json.loads(client.read_flow_run_input(run.id, keyset["description"]) or '""')
    fields = schema.get("properties", {})
    if not fields or not all(name.startswith(FIELD_PREFIX) for name in fields):
        return None
    sites = [
        FormSite(int(name.removeprefix(FIELD_PREFIX)), str(spec.get("title", name)), name)
        for name, spec in fields.items()
    ]
    return StoreIdForm(sites=sites, problems=_rejections(str(description or "")))


def _rejections(description: str) -> list[str]:
    if REJECTION_HEADING not in description:
        return []
    listed = description.split(REJECTION_HEADING, 1)[1]
    return [line[2:].strip() for line in listed.splitlines() if line.startswith("- ")]


def _task_runs(client: SyncPrefectClient, run_id: UUID) -> list[TaskRun]:
    return client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
        sort=TaskRunSort.EXPECTED_START_TIME_ASC,
    )


def stages(tasks: list[TaskRun]) -> list[Stage]:
    """One line per stage, in the order they first ran. When a resumed run passed a
    stage again, the pass that did the work (the first to complete) is the one shown."""
    by_name: dict[str, list[TaskRun]] = {}
    for task in tasks:
        by_name.setdefault(task.name, []).append(task)
    shown = []
    for name, runs in by_name.items():
        done = [t for t in runs if _type(t.state) == "COMPLETED"]
        task = done[0] if done else runs[-1]
        shown.append(
            Stage(
                name=name,
                state=_name(task.state),
                state_type=_type(task.state) or "UNKNOWN",
                started=task.start_time,
                finished=task.end_time,
                runs=len(runs),
            )
        )
    return shown


def situation(
    run: FlowRun,
    states: list[State],
    tasks: list[TaskRun],
    form: StoreIdForm | None,
    now: datetime,
) -> Situation:
    """What the run is doing or waiting for, in a sentence."""
    state = run.state
    kind = _type(state)
    at = state.timestamp if state else None
    if state is None or kind is None:
        return Situation("not started", None, None)
    if kind == "PAUSED":
        paused = [s.timestamp for s in states if _type(s) == "PAUSED"]
        since = min(paused) if paused else at
        if form is not None:
            text = f"waiting for Polaris's store IDs since {when(since)} ({age(since, now)})"
            return Situation(text, "store_ids", since)
        return Situation(f"paused since {when(since)}, waiting to be resumed", "resume", since)
    if kind == "SCHEDULED":
        due = state.state_details.scheduled_time or at
        if state.name in RETRY_STATES:
            return Situation(f"waiting to retry at {when(due)}", "retry", due)
        if due and due > now:
            return Situation(f"scheduled for {when(due)}", "worker", due)
        text = f"waiting for a worker to pick it up since {when(due)} ({age(due, now)})"
        if due and (now - due).total_seconds() > PICK_UP_EXPECTED_WITHIN:
            text += "; is `python -m flows.serve` (or a worker on its work pool) running?"
        return Situation(text, "worker", due)
    if kind == "PENDING":
        return Situation(f"being started by a worker since {when(at)}", "worker", at)
    if kind == "RUNNING":
        return _running(tasks, at)
    if kind == "COMPLETED":
        return Situation(f"completed at {when(at)}", None, at)
    if kind in {"FAILED", "CRASHED"}:
        return Situation(
            f"{kind.lower()} at {when(at)}: {state.message or 'no reason given'}", None, at
        )
    if kind in {"CANCELLED", "CANCELLING"}:
        return Situation(f"{_name(state).lower()} at {when(at)}", None, at)
    return Situation(f"{_name(state).lower()} since {when(at)}", None, at)


def _running(tasks: list[TaskRun], since: datetime | None) -> Situation:
    for task in reversed(tasks):
        if task.state and task.state.name in RETRY_STATES:
            due = task.state.state_details.scheduled_time or task.state.timestamp
            return Situation(f"retrying '{task.name}' at {when(due)}", "retry", due)
        if _type(task.state) == "RUNNING":
            return Situation(f"running '{task.name}' since {when(task.start_time)}", None, since)
    return Situation(f"running since {when(since)}", None, since)


def _type(state: State | None) -> str | None:
    return state.type.value if state else None


def _name(state: State | None) -> str:
    if state is None:
        return "Unknown"
    return state.name or state.type.value.title()
