"""The development admin token: made once per var/ folder, private to its owner, and
the same for every process that asks, however many ask at once."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contract.development import ADMIN_TOKEN_FILENAME, development_admin_token


def test_the_token_is_made_once_and_kept_private(tmp_path: Path) -> None:
    var = tmp_path / "var"
    token = development_admin_token(var)
    assert len(token) >= 32
    assert development_admin_token(var) == token
    token_file = var / ADMIN_TOKEN_FILENAME
    assert token_file.read_text() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in var.iterdir()] == [ADMIN_TOKEN_FILENAME]  # no draft left behind


@pytest.fixture
def threads_switching_often() -> Iterator[None]:
    """Threads interleave inside a call, not only between calls."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("threads_switching_often")
def test_processes_racing_for_a_new_token_all_get_the_winners(tmp_path: Path) -> None:
    # Threads stand in for processes: each call is a file-system race either way. Many
    # rounds, as one may happen not to collide: the code this replaced (create the file
    # exclusively, then write it, so a loser could read it empty) lost up to half of
    # them, and sometimes none in twenty.
    for round_number in range(100):
        var = tmp_path / f"var-{round_number}"
        tokens = race_for_a_token(var, racers=8)
        assert set(tokens) == {(var / ADMIN_TOKEN_FILENAME).read_text()}
        assert [p.name for p in var.iterdir()] == [ADMIN_TOKEN_FILENAME]


def race_for_a_token(var: Path, racers: int) -> list[str]:
    """What each of ``racers`` threads, released at once, got from var/."""
    start = threading.Barrier(racers)

    def race() -> str:
        start.wait()
        return development_admin_token(var)

    with ThreadPoolExecutor(max_workers=racers) as pool:
        calls = [pool.submit(race) for _ in range(racers)]
        return [call.result() for call in calls]


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ADMIN_TOKEN_FILENAME).write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        development_admin_token(tmp_path)


def test_the_command_prints_the_token_kept_in_the_folder(tmp_path: Path) -> None:
    # As scripts/up runs it: the token, alone, on stdout.
    command = [sys.executable, "-m", "contract.development", "admin-token", str(tmp_path)]
    first = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    again = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    assert first.stdout == again.stdout == development_admin_token(tmp_path) + "\n"
