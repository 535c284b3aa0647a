"""Crash points for fault tests: the process dies at once (no cleanup, as a killed
worker would) when the flow reaches the named point.

Armed by ``ONBOARDING_FAILPOINT=<name>``, or by a file named in
``ONBOARDING_FAILPOINT_FILE`` holding one failpoint a line; a line fires once and is
removed as it fires, so the next attempt runs through. Names are stage boundaries,
e.g. ``after:create_api_user``. A line ``<name> account=<id>`` fires only in a run
onboarding that account, so tests sharing one runner cannot trip each other's; with
``how=sigkill`` the process is killed by SIGKILL (as the kernel's OOM killer or
``kill -9`` would) rather than exiting.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV = "ONBOARDING_FAILPOINT"
FILE_ENV = "ONBOARDING_FAILPOINT_FILE"
EXIT_CODE = 86


def reached(name: str) -> None:
    if os.environ.get(ENV) == name:
        _die("exit")
    armed = os.environ.get(FILE_ENV)
    if not armed:
        return
    path = Path(armed)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    for index, line in enumerate(lines):
        how = _fires(line, name)
        if how is not None:
            _disarm(path, lines[:index] + lines[index + 1 :])
            _die(how)


def _fires(line: str, name: str) -> str | None:
    """How the process dies if ``line`` fires at ``name`` ("exit" or "sigkill")."""
    point, *scopes = line.split()
    if point != name:
        return None
    options = dict(scope.partition("=")[::2] for scope in scopes)
    if "account" in options and options["account"].strip() != str(_account_id()):
        return None
    return options.get("how", "exit")


def _die(how: str) -> None:
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(EXIT_CODE)


def _account_id() -> object:
    from prefect import runtime

    return runtime.flow_run.parameters.get("account_id")


def _disarm(path: Path, rest: list[str]) -> None:
    if not rest:
        path.unlink(missing_ok=True)
        return
    spare = path.with_name(f"{path.name}.{os.getpid()}")
    spare.write_text("".join(f"{line}\n" for line in rest))
    os.replace(spare, path)
