"""`scripts/up`, run as a developer runs it (in a folder of its own, UP_VAR_DIR, on
free ports): everything comes up and answers, the printed `onboarding start` works,
Ctrl-C stops every process it started, and a second run carries on from the same
folder. What stops it (a busy port, a missing tool, a half-migrated database) is
said in one plain message."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.constants import PROJECT_ROOT
from harness.html_page import read_page
from harness.ledger_process import ledger_python
from harness.processes import free_port
from tests.system.flows.polaris_side import store_id_link_from

ONBOARDING = Path(sys.executable).with_name("onboarding")
SETTING_PREFIXES = ("PREFECT_", "LEDGER_", "ONBOARDING_", "UP_")
UP_TIMEOUT = 240
# scripts/up's stop is bounded, not a matter of the machine's speed: 10 s for the flows,
# then 15 s for both servers, then whatever is left is killed. The margin is for the
# KILL and the shell itself.
STOP_BOUND_SECONDS = 10 + 15
STOP_MARGIN_SECONDS = 20


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    output_path: Path
    var: Path
    ledger_url: str
    prefect_api_url: str

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = UP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"scripts/up exited {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"scripts/up did not print {text!r}:\n{self.output()}")
            time.sleep(0.5)

    def ctrl_c(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_BOUND_SECONDS + STOP_MARGIN_SECONDS)
        except subprocess.TimeoutExpired:
            left = subprocess.run(
                ["ps", "-o", "pid,pgid,stat,etime,args", "--sid", str(self.process.pid)],
                capture_output=True,
                text=True,
            ).stdout
            pytest.fail(
                f"scripts/up did not stop within {STOP_BOUND_SECONDS + STOP_MARGIN_SECONDS} s "
                f"of Ctrl-C. Still running:\n{left}\nIts output:\n{self.output()}"
            )

    def wait_for_run(self, run_id: str, state: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while (now := self.onboarding("status", run_id)["state_type"]) != state:
            assert now not in {"FAILED", "CRASHED", "CANCELLED"}, self.onboarding("status", run_id)
            assert time.monotonic() < deadline, f"run {run_id} is {now}, not {state}"
            time.sleep(1)

    def onboarding(self, *args: str) -> Any:
        """The `onboarding` command, set up as `scripts/up` says to."""
        token = (self.var / "admin-token").read_text().strip()
        env = {
            **_without_settings(os.environ),
            "PREFECT_API_URL": self.prefect_api_url,
            "ONBOARDING_LEDGER_URL": self.ledger_url,
            "ONBOARDING_LEDGER_ADMIN_TOKEN": token,
        }
        done = subprocess.run(
            [str(ONBOARDING), *args, "--json"], env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)


def _only_email(outbox: Path) -> EmailMessage:
    (eml,) = sorted(outbox.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _without_settings(env: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(SETTING_PREFIXES)}


@contextmanager
def scripts_up(var: Path, **env: str) -> Iterator[Up]:
    ledger_port, prefect_port = env.get("LEDGER_PORT"), env.get("PREFECT_PORT")
    full_env = {
        **_without_settings(os.environ),
        "UP_VAR_DIR": str(var),
        "LEDGER_PORT": ledger_port or str(free_port()),
        "PREFECT_PORT": prefect_port or str(free_port()),
        **env,
    }
    var.mkdir(parents=True, exist_ok=True)
    output_path = var.parent / f"{var.name}-up-{time.monotonic_ns()}.out"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "scripts/up"],
            cwd=PROJECT_ROOT,
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: whatever it starts can be found
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
    up = Up(
        process,
        output_path,
        var,
        ledger_url=f"http://127.0.0.1:{full_env['LEDGER_PORT']}",
        prefect_api_url=f"http://127.0.0.1:{full_env['PREFECT_PORT']}/api",
    )
    try:
        yield up
    finally:
        for pid in _session(process.pid):  # only if the test failed half-way
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT as a terminal's shell leaves it: a suite run from a background job
    inherits it ignored, and a shell that starts with SIGINT ignored cannot trap it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _session(session_id: int) -> list[int]:
    """Every live process in that session: what scripts/up started, and theirs."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _assert_stops_everything(up: Up) -> None:
    assert up.ctrl_c() == 0, up.output()
    assert "Stopped." in up.output()
    deadline = time.monotonic() + 10
    while _session(up.process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session(up.process.pid) == [], "scripts/up left processes running"
    for url in (f"{up.ledger_url}/healthz", f"{up.prefect_api_url}/health"):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)


def _assert_stops_with(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = [line for line in result.stderr.splitlines() if line.startswith("scripts/up:")]
    assert len(message) == 1, result.stderr
    for fragment in fragments:
        assert fragment in message[0], message[0]


def _run_up(var: Path, path: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **_without_settings(os.environ),
        "UP_VAR_DIR": str(var),
        "LEDGER_PORT": str(free_port()),
        "PREFECT_PORT": str(free_port()),
        **env,
    }
    if path is not None:
        full_env.update(PATH=path, HOME=str(var))
    return subprocess.run(
        ["/bin/bash", "scripts/up"],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_up_brings_everything_up_and_a_second_run_carries_on(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with scripts_up(var) as up:
        up.wait_for("Press Ctrl-C to stop.")
        text = up.output()
        assert f"{up.ledger_url}/docs" in text and up.prefect_api_url.removesuffix("/api") in text
        demo = json.loads((var / "demo-merchant.json").read_text())
        account = demo["account_id"]
        assert f"uv run onboarding start --account {account}" in text
        assert f"export PREFECT_API_URL={up.prefect_api_url}" in text
        assert httpx.get(f"{up.ledger_url}/healthz").status_code == 200
        assert (var / "prefect" / "prefect.db").exists()

        # The printed command starts a run of the served deployment.
        started = up.onboarding(
            "start",
            "--account",
            str(account),
            "--polaris-name",
            "Pat Polaris",
            "--polaris-email",
            "pat@polaris.example",
            "--polaris-mobile",
            "+447700900123",
            "--site",
            "The Lamb|9 Lamb Lane, Leeds|lamb-1",
        )
        # Polaris enters the store ID through the link in the email in the outbox: the
        # link points at the ledger on its moved port, and the run completes.
        up.wait_for_run(started["id"], "PAUSED")
        link = store_id_link_from(_only_email(var / "outbox"))
        assert link.startswith(f"{up.ledger_url}/polaris/store-ids/"), link
        form = read_page(httpx.get(link, timeout=30).text)
        (field,) = form.fields()
        assert field.label == "The Lamb"
        sent = httpx.post(
            link, data={"link": form.hidden("link"), field.name: "PLR-100"}, timeout=60
        )
        assert sent.status_code == 200, read_page(sent.text).text
        up.wait_for_run(started["id"], "COMPLETED")
        _assert_schedules_run(up)
        _assert_stops_everything(up)

    with scripts_up(var) as again:
        again.wait_for("Press Ctrl-C to stop.")
        assert f"Reusing the demo merchant in {var / 'demo-merchant.json'}" in again.output()
        assert json.loads((var / "demo-merchant.json").read_text()) == demo
        # Prefect's database is the same one: the run started before is still there.
        assert again.onboarding("status", started["id"])["id"] == started["id"]
        _assert_stops_everything(again)


def _assert_schedules_run(up: Up, timeout: float = 150) -> None:
    """Prefect's scheduler, on the server `up` runs, puts the scheduled deployments'
    next runs on the calendar (it did not, once, on a SQLAlchemy it could not use)."""
    scheduled_flows = ["polaris-store-id-reminders", "polaris-rotation-watch"]
    body = {
        "flows": {"name": {"any_": scheduled_flows}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
    }
    deadline = time.monotonic() + timeout
    while True:
        runs = httpx.post(f"{up.prefect_api_url}/flow_runs/filter", json=body, timeout=30).json()
        names = {run["flow_id"] for run in runs}
        if len(names) == len(scheduled_flows):
            return
        assert time.monotonic() < deadline, f"no runs scheduled for {scheduled_flows}: {runs}"
        time.sleep(2)


def test_a_busy_port_stops_up_before_it_starts_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_up(tmp_path / "var", PREFECT_PORT=str(port))
    _assert_stops_with(result, f"port {port}, for the Prefect server, is already in use")
    assert "PREFECT_PORT=" in result.stderr
    assert not (tmp_path / "var" / "ledger.sqlite3").exists()


def test_a_half_migrated_ledger_stops_up_with_the_reason(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    database = var / "ledger.sqlite3"
    subprocess.run(
        [ledger_python(), "-m", "api.cli", "migrate"],
        env={**_without_settings(os.environ), "LEDGER_DATABASE_URL": f"sqlite:///{database}"},
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    result = _run_up(var)
    assert "tables do not match its migration record (revision 0001)" in result.stderr
    _assert_stops_with(result, "could not be brought up to date", "nothing was started")


def test_missing_tools_are_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to("/usr/bin/dirname")
    result = _run_up(tmp_path / "var", path=str(bin_dir))
    _assert_stops_with(result, "needs uv, or Python 3.11+ with pip")

    # A uv that cannot install the locked environment (as when offline).
    fake_uv = bin_dir / "uv"
    fake_uv.write_text(
        "#!/bin/bash\necho 'error: Failed to fetch: network unreachable' >&2\nexit 2\n"
    )
    fake_uv.chmod(0o755)
    result = _run_up(tmp_path / "var", path=f"{bin_dir}:/usr/bin:/bin")
    _assert_stops_with(result, "could not install the locked environment")
    assert "network unreachable" in result.stderr
