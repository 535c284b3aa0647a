"""The onboarding half, on the embedded default: the ledger on SQLite, a Prefect server
with its database under a temp PREFECT_HOME, and the flows served by
``python -m flows.serve`` (the three always-on processes, as ``scripts/up`` runs them),
with emails and texts going to an outbox folder.

Measured: the time from starting an onboarding to the run waiting for store IDs, and
from submitting them to the run completed (verified), for each site count; the memory
of each process; and how many processes are held while many onboardings wait (none
should be: a suspended run's process exits).

It runs in the flows' environment (``python -m bench.onboarding``, started by
``run_in_onboarding_environment`` from the benchmark's own, the ledger's), the ledger
from its own environment, as in production: two deployables over HTTP.

The flows are served and driven with the test suite's helpers (tests/harness/
prefect_env.py), so the benchmark starts and resumes runs exactly as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psutil

from bench.servers import ledger_command, ledger_python, serve
from harness.processes import free_port

Log = Callable[[str], None]
WORKSPACE = Path(__file__).resolve().parents[1]
ONBOARDING_PYTHON = WORKSPACE / ".venv" / "bin" / "python"
POLARIS = {"name": "Pat Polaris", "email": "pat@polaris.example", "mobile": "+447700900123"}
# scripts/up's: how often the flows' runner asks the Prefect server for work.
RUNNER_POLL_SECONDS = "2"
# Onboardings started at once while filling the waiting room: each run is a Python
# process until it suspends, and the runner starts every one it is given.
BATCH = 10


@dataclass(frozen=True)
class Timing:
    sites: int
    start_to_waiting_s: float
    resume_to_verified_s: float
    calls_verified: int
    flow_run_peak_rss_mib: float  # the largest flow-run process seen while it ran
    # Where each leg's time goes, by the Prefect server's state times: until the
    # runner picked the run up (it polls), until its process ran the flow, the flow.
    start_legs: dict[str, float] = field(default_factory=dict)
    resume_legs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessMemory:
    role: str
    pid: int
    rss_mib: float
    command: str


@dataclass
class OnboardingResult:
    waiting: int
    timings: list[Timing] = field(default_factory=list)
    memory_idle: list[ProcessMemory] = field(default_factory=list)
    memory_while_waiting: list[ProcessMemory] = field(default_factory=list)
    processes_always_on: int = 0
    processes_while_waiting: int = 0
    runs_waiting: int = 0  # PAUSED runs the Prefect server reports at the count
    fill_seconds: float = 0.0

    @property
    def processes_held_while_waiting(self) -> int:
        return self.processes_while_waiting - self.processes_always_on

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "processes_held_while_waiting": self.processes_held_while_waiting,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OnboardingResult:
        fields = {k: v for k, v in data.items() if k != "processes_held_while_waiting"}
        return cls(
            **{
                **fields,
                "timings": [Timing(**t) for t in fields.get("timings", [])],
                "memory_idle": [ProcessMemory(**m) for m in fields.get("memory_idle", [])],
                "memory_while_waiting": [
                    ProcessMemory(**m) for m in fields.get("memory_while_waiting", [])
                ],
            }
        )


def run_in_onboarding_environment(
    site_counts: list[int], waiting: int, folder: Path, log: Log
) -> OnboardingResult:
    """The onboarding half from the ledger's environment: ``python -m bench.onboarding``
    in the flows' (.venv, next to .venv-ledger), its progress lines passed on."""
    folder.mkdir(parents=True, exist_ok=True)
    onboarding_python = ONBOARDING_PYTHON
    if not onboarding_python.exists():
        raise SystemExit(f"{onboarding_python} is missing: run scripts/bootstrap first.")
    out = folder / "onboarding.json"
    command = [
        str(onboarding_python),
        "-m",
        "bench.onboarding",
        "--sites",
        ",".join(str(n) for n in site_counts),
        "--waiting",
        str(waiting),
        "--folder",
        str(folder),
        "--out",
        str(out),
    ]
    env = {**os.environ, "BENCH_LEDGER_PYTHON": ledger_python()}
    with subprocess.Popen(
        command, cwd=WORKSPACE, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            log(line.rstrip("\n"))
    if process.returncode != 0:
        raise SystemExit(f"the onboarding half failed (exit {process.returncode}); see above.")
    return OnboardingResult.from_json(json.loads(out.read_text()))


def run_onboarding(
    site_counts: list[int], waiting: int, folder: Path, log: Log
) -> OnboardingResult:
    folder.mkdir(parents=True, exist_ok=True)
    prefect_port, ledger_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{prefect_port}/api"
    # Before prefect is imported: its settings are read once, from the environment.
    os.environ.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(folder / "client-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    from harness.prefect_env import PrefectServer, serve_flows

    admin_token = secrets.token_urlsafe(32)
    database_url = f"sqlite:///{folder / 'ledger.sqlite3'}"
    _migrate(database_url)
    ledger_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "ONBOARDING_"))},
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_ADMIN_TOKEN": admin_token,
    }
    result = OnboardingResult(waiting=waiting)
    with ExitStack() as stack:
        log("onboarding: starting the ledger and the Prefect server")
        ledger = stack.enter_context(
            serve(ledger_command(ledger_port), ledger_port, ledger_env, folder / "ledger.log")
        )
        prefect_pid = stack.enter_context(_prefect_server(prefect_port, folder))
        runner = stack.enter_context(
            serve_flows(
                PrefectServer(api_url=api_url, database_path=folder / "prefect-server.db"),
                folder / "runner",
                {
                    "ONBOARDING_LEDGER_URL": ledger.url,
                    "ONBOARDING_LEDGER_ADMIN_TOKEN": admin_token,
                    "ONBOARDING_OUTBOX_DIR": str(folder / "outbox"),
                    "PREFECT_RUNNER_POLL_FREQUENCY": RUNNER_POLL_SECONDS,
                },
            )
        )
        roles = {
            "ledger (ledger serve)": ledger.pid,
            "Prefect server": prefect_pid,
            "flows runner (python -m flows.serve)": runner.process.pid,
        }
        admin = stack.enter_context(
            httpx.Client(
                base_url=ledger.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
            )
        )
        for sites in site_counts:
            log(f"onboarding: {sites} site(s), start to verified")
            result.timings.append(_time_one(admin, sites, runner.process.pid))
        # The always-on count is taken once the last run's process has gone (a fixed
        # pause was sometimes too short: that process was then counted as always on).
        _wait_for_exits(runner.process.pid)
        result.memory_idle = _memory(roles)
        result.processes_always_on = _process_count(roles)

        log(f"onboarding: {waiting} onboardings left waiting for store IDs")
        started = time.monotonic()
        run_ids = _fill_waiting_room(admin, waiting)
        result.fill_seconds = time.monotonic() - started
        _wait_for_exits(runner.process.pid)
        result.runs_waiting = sum(1 for run_id in run_ids if _state(run_id) == "PAUSED")
        result.processes_while_waiting = _process_count(roles)
        result.memory_while_waiting = _memory(roles)
    return result


def _migrate(database_url: str) -> None:
    """`ledger migrate`, from the ledger's environment."""
    subprocess.run(
        [ledger_python(), "-m", "api.cli", "migrate"],
        env={**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_ADMIN_TOKEN": "x" * 32},
        check=True,
        capture_output=True,
    )


@contextmanager
def _prefect_server(port: int, folder: Path) -> Iterator[int]:
    """``prefect server start`` as scripts/up runs it, its database under a temp home."""
    home = folder / "prefect-server-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": (
            f"sqlite+aiosqlite:///{folder / 'prefect-server.db'}"
        ),
    }
    prefect = str(Path(sys.executable).with_name("prefect"))
    command = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log_path = folder / "prefect-server.log"
    # Prefect migrates its database first: slower to answer than the ledger.
    with serve(
        command, port, env, log_path, health_path="/api/health", start_timeout=180
    ) as server:
        yield server.pid


def _new_account(admin: httpx.Client, name: str) -> int:
    account = admin.post("/admin/accounts", json={"name": name})
    account.raise_for_status()
    account_id = int(account.json()["id"])
    product = admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift voucher"})
    product.raise_for_status()
    return account_id


def _sites(count: int, tag: str) -> list[dict[str, str]]:
    return [
        {"name": f"Site {n} {tag}", "address": f"{n} High Street", "reference": f"{tag}-{n}"}
        for n in range(1, count + 1)
    ]


def _time_one(admin: httpx.Client, sites: int, runner_pid: int) -> Timing:
    from harness.prefect_env import start_onboarding, submit_store_ids, wait_for_state

    tag = secrets.token_hex(3)
    account_id = _new_account(admin, f"Bench {sites} sites {tag}")
    with _peak_child_rss(runner_pid) as peak:
        started = time.time()
        run_id = start_onboarding(
            {"account_id": account_id, "polaris": POLARIS, "sites": _sites(sites, tag)}
        )
        wait_for_state(run_id, "PAUSED", timeout=600)
        waiting_at = _entered(run_id, "PAUSED")
        start_legs = _legs(run_id, started, "PAUSED")
        site_ids = [s["id"] for s in admin.get(f"/admin/accounts/{account_id}/sites").json()]
        resumed = time.time()
        submit_store_ids(run_id, {site: f"PLS-{tag}-{n}" for n, site in enumerate(site_ids, 1)})
        wait_for_state(run_id, "COMPLETED", timeout=600)
        verified_at = _entered(run_id, "COMPLETED")
        resume_legs = _legs(run_id, resumed, "COMPLETED")
    status, calls = _verification(admin, account_id)
    if status != "verified":
        raise RuntimeError(f"the onboarding of {sites} site(s) ended {status}")
    return Timing(
        sites=sites,
        start_to_waiting_s=waiting_at - started,
        resume_to_verified_s=verified_at - resumed,
        calls_verified=calls,
        flow_run_peak_rss_mib=peak[0],
        start_legs=start_legs,
        resume_legs=resume_legs,
    )


def _legs(run_id: UUID, since: float, until: str) -> dict[str, float]:
    """Seconds from ``since`` to the runner picking the run up (PENDING), from there to
    the flow running (RUNNING: the process started), and from there to ``until``."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(run_id)
    stamps = sorted(
        (s.timestamp.timestamp(), s.type.value) for s in states if s.timestamp is not None
    )
    after = [(t, kind) for t, kind in stamps if t >= since]
    pending = next((t for t, kind in after if kind == "PENDING"), since)
    running = next((t for t, kind in after if kind == "RUNNING" and t >= pending), pending)
    end = next((t for t, kind in after if kind == until and t >= running), running)
    return {
        "runner_pickup_s": pending - since,
        "process_start_s": running - pending,
        "flow_s": end - running,
    }


def _entered(run_id: UUID, state: str) -> float:
    """When the run entered ``state``, by the Prefect server's record (not our polling)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(run_id)
    stamps = [s.timestamp for s in states if s.type.value == state and s.timestamp is not None]
    latest: datetime = max(stamps)
    return latest.timestamp()


def _verification(admin: httpx.Client, account_id: int) -> tuple[str, int]:
    """The onboarding's status in the ledger and the till calls its verification made
    that answered as the contract says (from the run's verification table)."""
    import json

    from harness.prefect_env import artifact_data

    onboarding = admin.get("/admin/onboardings", params={"account_id": account_id}).json()[0]
    table = artifact_data(f"onboarding-{onboarding['id']}-verification")
    rows = table if isinstance(table, list) else json.loads(table)
    return str(onboarding["status"]), sum(1 for row in rows if row["outcome"] == "ok")


def _state(run_id: UUID) -> str | None:
    from harness.prefect_env import read_run

    run = read_run(run_id)
    return run.state.type.value if run.state else None


def _fill_waiting_room(admin: httpx.Client, count: int) -> list[UUID]:
    """``count`` onboardings, each of its own merchant, all waiting for store IDs;
    started in batches so that no more than BATCH run processes exist at once."""
    from harness.prefect_env import start_onboarding, wait_for_state

    run_ids: list[UUID] = []
    while len(run_ids) < count:
        batch = []
        for _ in range(min(BATCH, count - len(run_ids))):
            tag = secrets.token_hex(3)
            account_id = _new_account(admin, f"Waiting {tag}")
            batch.append(
                start_onboarding(
                    {"account_id": account_id, "polaris": POLARIS, "sites": _sites(1, tag)}
                )
            )
        for run_id in batch:
            wait_for_state(run_id, "PAUSED", timeout=900)
        run_ids += batch
    return run_ids


def _wait_for_exits(runner_pid: int, timeout: float = 120) -> None:
    """Suspended runs' processes exit after the run is PAUSED: give them the time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.Process(runner_pid).children(recursive=True):
            return
        time.sleep(0.5)


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _process_count(roles: dict[str, int]) -> int:
    return sum(len(_tree(pid)) for pid in roles.values())


def _memory(roles: dict[str, int]) -> list[ProcessMemory]:
    """RSS of each process in each always-on process tree."""
    found = []
    for role, pid in roles.items():
        for number, process in enumerate(_tree(pid)):
            try:
                rss = process.memory_info().rss / 2**20
                command = " ".join(process.cmdline()[:4])
            except psutil.NoSuchProcess:
                continue
            label = role if number == 0 else f"{role}: child {number}"
            found.append(ProcessMemory(label, process.pid, rss, command[:120]))
    return found


@contextmanager
def _peak_child_rss(pid: int) -> Iterator[list[float]]:
    """The largest RSS any child of ``pid`` reaches while the block runs (MiB)."""
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                for child in psutil.Process(pid).children(recursive=True):
                    peak[0] = max(peak[0], child.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                pass
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.onboarding")
    parser.add_argument("--sites", required=True, help="site counts, comma-separated")
    parser.add_argument("--waiting", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the result, as JSON")
    args = parser.parse_args(argv)
    sites = [int(n) for n in args.sites.split(",")]
    result = run_onboarding(sites, args.waiting, args.folder, lambda line: print(line, flush=True))
    args.out.write_text(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
