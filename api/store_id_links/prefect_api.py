"""The Prefect server as the store-ID page sees it: one waiting flow run, read and
resumed with Polaris's answer through Prefect's REST API, the calls the Prefect UI's
Resume form makes. The ledger has no Prefect installed; this is plain HTTP, awaited
on the event loop so that a slow Prefect holds none of the worker threads the till
calls need.

What ``POST /flow_runs/{id}/resume`` answers (Prefect 3.7, server/api/flow_runs.py):
200/201 with an orchestration result ``{"status": ..., "state": ..., "details":
{"reason": ...}}``:

    ACCEPT   resumed; the run input was stored under the pause's "response" key
    ABORT    "Cannot resume a flow run that is not paused." (someone answered first)
    REJECT   the input does not fit the form's schema, or the pause timed out (then
             with a FAILED state: the run can no longer resume)
    WAIT     try again after details.delay_seconds

It answers 500 for an unknown run (it reads ``flow_run.state`` of None), 409 when
two answers raced and the second tried to store its input under the same key, and
500 "database is locked" on SQLite when another writer came between its read and its
write, and REJECT "Run input schema not found." for a run caught between setting its
PAUSED state and saving its form. After anything but a clear answer the page reads the run again to learn whose
answer was taken (``resolve_after_unclear``).

    PrefectUnavailable   the server could not be reached or gave no usable answer
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import httpx

from api.core.config import Settings

# At most this many calls to Prefect at once per ledger process: the page's callers
# are anonymous until their link is checked, and each call holds a connection.
MAX_CONCURRENT_CALLS = 8
# An unclear answer (a 5xx, a lost race) is followed by a fresh look; a run that is
# still waiting is asked again this many times in all, a moment apart.
RESUME_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5


class PrefectUnavailable(Exception):
    """Prefect's server could not be reached, or answered with an error. ``maybe_sent``:
    an answer went out and whether the run took it could not be learned."""

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class RunState:
    type: str  # PAUSED, RUNNING, SCHEDULED, COMPLETED, FAILED, CANCELLED, CRASHED, ...
    name: str
    timestamp: datetime | None
    pause_timeout: datetime | None
    response_key: str | None  # where the answer to the current pause is stored

    @property
    def waiting_for_input(self) -> bool:
        return self.type == "PAUSED" and self.response_key is not None


class Outcome(Enum):
    TAKEN = "taken"  # our answer resumed the run
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # the run had stopped waiting
    TIMED_OUT = "timed_out"  # the wait expired; the run can no longer resume
    REFUSED = "refused"  # Prefect refused the input (the form no longer fits)
    GONE = "gone"  # Prefect has no such run


@dataclass(frozen=True)
class ResumeResult:
    outcome: Outcome
    reason: str = ""


class PrefectApi:
    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.resolved_prefect_api_url
        self._headers = _auth_headers(settings)
        self._timeout = httpx.Timeout(settings.prefect_timeout_seconds, connect=3.0)
        self._calls = asyncio.Semaphore(MAX_CONCURRENT_CALLS)

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self._calls:
            try:
                async with httpx.AsyncClient(
                    base_url=self.base_url, headers=self._headers, timeout=self._timeout
                ) as client:
                    return await client.request(method, path, **kwargs)
            except httpx.HTTPError as error:
                raise PrefectUnavailable(
                    f"Prefect at {self.base_url} could not be reached ({type(error).__name__})"
                ) from None

    async def read_run(self, flow_run_id: str) -> RunState | None:
        """The run's state, or None when Prefect has no such run."""
        response = await self._request("GET", f"/flow_runs/{flow_run_id}")
        if response.status_code in (404, 422):  # 422: not a run ID Prefect could have
            return None
        body = _json(response)
        state = body.get("state") or {}
        details = state.get("state_details") or {}
        keyset = details.get("run_input_keyset") or {}
        return RunState(
            type=str(state.get("type") or "UNKNOWN"),
            name=str(state.get("name") or ""),
            timestamp=_time(state.get("timestamp")),
            pause_timeout=_time(details.get("pause_timeout")),
            response_key=keyset.get("response") if isinstance(keyset, dict) else None,
        )

    async def read_input(self, flow_run_id: str, key: str) -> Any:
        """The run input stored under ``key``, or None when there is none."""
        response = await self._request("GET", f"/flow_runs/{flow_run_id}/input/{key}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PrefectUnavailable(f"Prefect answered {response.status_code} reading a run input")
        try:
            return json.loads(response.text)
        except ValueError:
            return None

    async def resume(
        self, flow_run_id: str, waiting: RunState, run_input: dict[str, str]
    ) -> ResumeResult:
        """Resume the waiting run with ``run_input``, and say whose answer it took."""
        for attempt in range(1, RESUME_ATTEMPTS + 1):
            try:
                response = await self._request(
                    "POST", f"/flow_runs/{flow_run_id}/resume", json={"run_input": run_input}
                )
            except PrefectUnavailable:
                response = None
            clear = _clear_answer(response)
            if clear is not None:
                return clear
            # No clear answer: look again. Our input may have been stored after all
            # (the answer got lost), or another answer's, or none and the run waits.
            try:
                found = await self._whose_answer(flow_run_id, waiting, run_input)
            except PrefectUnavailable as error:
                raise PrefectUnavailable(str(error), maybe_sent=True) from None
            if found is not None:
                return found
            if attempt < RESUME_ATTEMPTS:
                await asyncio.sleep(RETRY_PAUSE_SECONDS * attempt)
        # The run still waits, as it did: nothing was taken.
        raise PrefectUnavailable(f"Prefect at {self.base_url} did not take the answer")

    async def _whose_answer(
        self, flow_run_id: str, waiting: RunState, run_input: dict[str, str]
    ) -> ResumeResult | None:
        """After an unclear answer: whose answer the run took, or None if it still waits."""
        current = await self.read_run(flow_run_id)
        if current is None:
            return ResumeResult(Outcome.GONE)
        if current.waiting_for_input and current.response_key == waiting.response_key:
            return None
        taken = waiting.response_key and await self.read_input(flow_run_id, waiting.response_key)
        if taken == run_input:
            return ResumeResult(Outcome.TAKEN)
        return ResumeResult(Outcome.ANSWERED_ELSEWHERE)


def _clear_answer(response: httpx.Response | None) -> ResumeResult | None:
    """What a resume call's answer says, when it says something for sure."""
    if response is None or response.status_code not in (200, 201):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    status = body.get("status")
    reason = str((body.get("details") or {}).get("reason") or "")
    state_type = (body.get("state") or {}).get("type")
    if status == "ACCEPT":
        return ResumeResult(Outcome.TAKEN)
    if status == "ABORT":
        return ResumeResult(Outcome.ANSWERED_ELSEWHERE, reason)
    if status == "REJECT" and state_type == "FAILED":
        return ResumeResult(Outcome.TIMED_OUT, reason)
    if status == "REJECT" and "schema not found" in reason:
        # A run that has just suspended: Prefect sets PAUSED first and saves the form
        # right after (suspend_flow_run). A moment later it takes the answer.
        return None
    if status == "REJECT":
        return ResumeResult(Outcome.REFUSED, reason)
    return None  # WAIT, or an answer this code does not know: look again


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise PrefectUnavailable(f"Prefect answered {response.status_code} reading a flow run")
    try:
        body = response.json()
    except ValueError:
        raise PrefectUnavailable("Prefect's answer was not JSON") from None
    if not isinstance(body, dict):
        raise PrefectUnavailable("Prefect's answer was not a flow run")
    return body


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _auth_headers(settings: Settings) -> dict[str, str]:
    """As Prefect's own client sends them: PREFECT_API_KEY as a bearer token,
    PREFECT_API_AUTH_STRING as basic auth."""
    if settings.prefect_api_key is not None:
        return {"Authorization": f"Bearer {settings.prefect_api_key.get_secret_value()}"}
    if settings.prefect_api_auth_string is not None:
        raw = settings.prefect_api_auth_string.get_secret_value().encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}
    return {}
