"""A till call's answer: its status and the exact JSON text sent, which a write's
idempotency record keeps byte for byte for replays."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel
from starlette.responses import Response

from api.core.errors import LedgerError, TooManyAttempts, Unavailable
from api.core.problems import PROBLEM_JSON, TILL_AUTHENTICATE

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class TillAnswer:
    status: int
    body: str
    replayed: bool = False
    # Seconds, for 429 and 503 (Retry-After).
    retry_after: int | None = None

    @property
    def is_problem(self) -> bool:
        return self.status >= 400

    def response(self) -> Response:
        headers: dict[str, str] = {}
        if self.replayed:
            headers[REPLAYED_HEADER] = "true"
        if self.status == 401:
            headers["WWW-Authenticate"] = TILL_AUTHENTICATE
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        media_type = PROBLEM_JSON if self.is_problem else "application/json"
        return Response(self.body, status_code=self.status, media_type=media_type, headers=headers)


def answer(status: int, model: BaseModel) -> TillAnswer:
    return TillAnswer(status, model.model_dump_json())


def refusal(error: LedgerError) -> TillAnswer:
    retry_after = error.retry_after if isinstance(error, TooManyAttempts | Unavailable) else None
    return TillAnswer(error.status, problem_text(error), retry_after=retry_after)


def problem_text(error: LedgerError) -> str:
    return json.dumps(error.problem(), separators=(",", ":"))
