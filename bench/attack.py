"""The under-attack row: one merchant's balance checks while the ledger is attacked,
the way issue 10 found it could be stalled:

- 16 clients sending wrong passwords for another merchant's real username, as fast as
  the ledger answers them (bench/wrk/till.lua with a wrong password);
- 3 clients with no credential posting 10 MB bodies to a till write, again and again
  (bench/wrk/big_body.lua).

The merchant's p99 under attack is set beside its p99 without it, from the same run.
The attackers run with wrk only (a Python client could not send fast enough to be an
attack worth the name); without wrk the row is left out.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.load import WRK_SCRIPT, Target
from bench.result_line import PROJECT_ROOT

WRONG_PASSWORD_CLIENTS = 16
BIG_BODY_CLIENTS = 3
BIG_BODY_BYTES = 10 * 1024 * 1024
BIG_BODY_SCRIPT = Path(__file__).resolve().parent / "wrk" / "big_body.lua"
# The attack runs this long before the measured load starts, and after it ends.
LEAD_SECONDS = 1.0


@dataclass(frozen=True)
class Attack:
    """What the attackers sent meanwhile (wrk's request counts)."""

    wrong_password_requests: int
    big_body_requests: int


def can_attack() -> bool:
    return shutil.which("wrk") is not None


@contextmanager
def attacking(
    target: Target, other_username: str, duration: float, folder: Path
) -> Iterator[list[Attack]]:
    """Attackers at ``target``'s ledger for the block's length (``duration`` seconds of
    measured load, with a lead either side); the list gets what they sent."""
    seconds = str(round(duration + 2 * LEAD_SECONDS + 1))
    wrong = _wrk(
        WRONG_PASSWORD_CLIENTS,
        seconds,
        WRK_SCRIPT,
        target.url,
        # A balance check of the merchant's own codes, as the other merchant with a
        # password that is not its own.
        [
            *("balance", str(target.codes_file), target.store_id, "1", "1", "attack"),
            _basic(other_username, "not-the-password"),
        ],
        folder / "attack-wrong-passwords.log",
    )
    big = _wrk(
        BIG_BODY_CLIENTS,
        seconds,
        BIG_BODY_SCRIPT,
        target.url,
        [str(BIG_BODY_BYTES)],
        folder / "attack-big-bodies.log",
    )
    found: list[Attack] = []
    try:
        time.sleep(LEAD_SECONDS)
        yield found
    finally:
        found.append(Attack(_finish(wrong), _finish(big)))


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _wrk(
    connections: int, seconds: str, script: Path, url: str, arguments: list[str], log: Path
) -> subprocess.Popen[str]:
    command = [
        "wrk",
        *("-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s"),
        *("--timeout", "10s", "-s", str(script), url, "--", *arguments),
    ]
    return subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=log.open("w"), text=True
    )


def _finish(process: subprocess.Popen[str]) -> int:
    """Wait for an attacker to end; how many requests it sent."""
    out, _ = process.communicate(timeout=120)
    for line in out.splitlines():
        line = line.strip()
        if line.endswith("requests in") or " requests in " in line:
            return int(line.split()[0])
    return 0
