"""Watching an onboarding run's bad ending from outside: the ledger's record, the
polaris-run-ending runs Prefect's automation starts, the hooks' log lines, and the
emails that tell people (exactly one per ending)."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun

from flows.deployments import RUN_ENDING_FLOW
from harness.smtp import SmtpServer

ENDING_NOTICE = re.compile(r"^Onboarding (failed|crashed|cancelled|expired) for ")


def subject_of(message: EmailMessage) -> str:
    # A long subject is folded right after "Subject:"; the reader sees it unfolded.
    return str(message["Subject"]).strip()


def is_ending_notice(message: EmailMessage) -> bool:
    return bool(ENDING_NOTICE.match(subject_of(message)))


def ending_notices(smtp: SmtpServer, address: str, merchant: str = "") -> list[EmailMessage]:
    """The notices of a bad ending sent to ``address`` (about ``merchant``, if given:
    ONBOARDING_NOTIFY_EMAILS gets every test's)."""
    return [
        m
        for m in smtp.messages_to(address)
        if is_ending_notice(m) and f" for {merchant}" in subject_of(m)
    ]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def onboarding_of(admin: httpx.Client, account_id: int) -> dict[str, Any]:
    (onboarding,) = admin.get("/admin/onboardings", params={"account_id": account_id}).json()
    return dict(onboarding)


def wait_for_status(
    admin: httpx.Client, account_id: int, status: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        onboarding = onboarding_of(admin, account_id)
        if onboarding["status"] == status:
            return onboarding
        assert time.monotonic() < deadline, f"onboarding still {onboarding['status']}"
        time.sleep(0.3)


def ending_runs(run_id: UUID) -> list[FlowRun]:
    """The polaris-run-ending runs started for ``run_id``'s events."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[RUN_ENDING_FLOW]))
        )
    wanted = {str(run_id), f"prefect.flow-run.{run_id}"}
    return [r for r in runs if (r.parameters or {}).get("flow_run_id") in wanted]


def wait_for_ending_run(run_id: UUID, timeout: float = 120) -> FlowRun:
    """The automation's polaris-run-ending run for ``run_id``, once it has completed
    (so whatever it was going to record and send, it has)."""
    deadline = time.monotonic() + timeout
    while True:
        runs = ending_runs(run_id)
        done = [r for r in runs if r.state is not None and r.state.is_final()]
        if done:
            (run,) = done
            assert run.state is not None and run.state.is_completed(), run.state
            return run
        assert time.monotonic() < deadline, f"no finished polaris-run-ending run for {run_id}"
        time.sleep(0.5)


def wait_for_log(run_id: UUID, text: str, timeout: float = 60) -> None:
    """Until a log line of the run (its own, or the runner's about it) holds ``text``."""
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
            )
        if any(text in log.message for log in logs):
            return
        assert time.monotonic() < deadline, f"run {run_id} never logged {text!r}"
        time.sleep(0.5)
