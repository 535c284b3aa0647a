"""The till half: for each database, the raw-database reference, then balance, redeem
and sell over real HTTP against the ledger served as ``ledger serve`` serves it, then
the reconciliation. And, once, the framework ceiling."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine

from bench.attack import Attack, attacking, can_attack
from bench.cpu import children_cpu, postgres_cpu, postgres_cpu_spent, process_cpu
from bench.databases import Seeded, bench_database, production_settings, seed, seed_other_merchant
from bench.load import LoadResult, Target, run_load
from bench.raw import RawResult, raw_redemptions
from bench.reconcile import (
    LedgerReconciliation,
    PhaseAccount,
    Snapshot,
    account_phase,
    ledger_reconciliation,
    snapshot,
)
from bench.servers import bare_command, ledger_command, serve
from harness.processes import free_port

KINDS = ("balance", "redeem", "sell")
Log = Callable[[str], None]


@dataclass(frozen=True)
class TillOptions:
    connections: int
    duration: float
    warmup: float
    vouchers: int
    amount: int
    generator: str
    profile_dir: Path | None = None
    calls: tuple[str, ...] = KINDS
    workers: int = 1


@dataclass
class BackendResult:
    backend: str
    raw: RawResult
    phases: list[LoadResult] = field(default_factory=list)
    accounts: list[PhaseAccount] = field(default_factory=list)
    ledger: LedgerReconciliation | None = None
    # The balance checks again, while the ledger is attacked (bench.attack).
    under_attack: LoadResult | None = None
    attack: Attack | None = None

    @property
    def clean(self) -> bool:
        return (
            self.ledger is not None
            and self.ledger.balanced
            and all(account.clean for account in self.accounts)
        )


def ledger_env(database_url: str, admin_token: str) -> dict[str, str]:
    """The ledger's production environment; none of the caller's LEDGER_ settings leak in."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {
        **inherited,
        "LEDGER_ENVIRONMENT": "production",
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_ADMIN_TOKEN": admin_token,
        # Production requires them; the benchmark opens no store-ID page.
        "LEDGER_STORE_ID_LINK_KEY": admin_token,
        "LEDGER_PREFECT_API_URL": "http://127.0.0.1:9/api",
    }


def run_backend(backend: str, options: TillOptions, folder: Path, log: Log) -> BackendResult:
    folder.mkdir(parents=True, exist_ok=True)
    with bench_database(backend, folder) as url:
        admin_token = secrets.token_urlsafe(32)
        log(f"{backend}: seeding {options.vouchers} vouchers")
        seeded = seed(production_settings(url, admin_token), options.vouchers)
        other_username = seed_other_merchant(production_settings(url, admin_token))
        codes_file = folder / "codes.txt"
        codes_file.write_text("\n".join(seeded.codes) + "\n")

        log(f"{backend}: raw-database redemptions, {options.connections} connections")
        raw = raw_redemptions(
            backend,
            url,
            seeded,
            amount=options.amount,
            connections=options.connections,
            duration=options.duration,
            folder=folder,
        )
        result = BackendResult(backend=backend, raw=raw)

        port = free_port()
        profile = options.profile_dir / f"ledger-{backend}.txt" if options.profile_dir else None
        engine = create_engine(url)
        try:
            with serve(
                ledger_command(port, options.workers),
                port,
                ledger_env(url, admin_token),
                folder / "ledger.log",
                profile_to=profile,
            ) as served:
                target = _target(served.url, codes_file, seeded)
                _first_call(target)
                for kind in options.calls:
                    log(f"{backend}: {kind}, {options.connections} connections")
                    load, account = _phase(engine, target, kind, options, served.pid, backend)
                    result.phases.append(load)
                    result.accounts.append(account)
                if "balance" in options.calls and can_attack():
                    log(f"{backend}: balance while attacked (wrong passwords, 10 MB bodies)")
                    with attacking(target, other_username, options.duration, folder) as sent:
                        load, account = _phase(
                            engine, target, "balance", options, served.pid, backend, warm=False
                        )
                    result.under_attack, result.attack = load, sent[0]
                    result.accounts.append(account)
                result.ledger = ledger_reconciliation(served.url, admin_token)
        finally:
            engine.dispose()
        return result


def _target(url: str, codes_file: Path, seeded: Seeded) -> Target:
    return Target(
        url=url,
        codes_file=codes_file,
        store_id=seeded.store_id,
        product_id=seeded.product_id,
        username=seeded.username,
        password=seeded.password,
    )


def _first_call(target: Target) -> None:
    """One call before the load, as a till's first call of the day: it pays the argon2
    verification; the calls under load then find the credential verified."""
    code = target.codes_file.read_text().split()[0]
    response = httpx.get(
        f"{target.url}/v1/vouchers/{code}",
        params={"store_id": target.store_id},
        auth=(target.username, target.password),
        timeout=30,
    )
    response.raise_for_status()


def _phase(
    engine: Engine,
    target: Target,
    kind: str,
    options: TillOptions,
    pid: int,
    backend: str,
    *,
    warm: bool = True,
) -> tuple[LoadResult, PhaseAccount]:
    tag = f"{kind}-{secrets.token_hex(3)}"
    if warm and options.warmup > 0:
        _load(target, kind, options, f"warm-{tag}", options.warmup)
        _settle(engine)
    before = snapshot(engine)
    load = _measured(target, kind, options, tag, pid, with_postgres=backend == "postgresql")
    after = _settle(engine)
    account = account_phase(
        engine,
        kind=kind,
        reference_prefix=tag,
        amount=options.amount,
        before=before,
        after=after,
        answered=load.successes,
        connections=options.connections,
    )
    return load, account


def _measured(
    target: Target, kind: str, options: TillOptions, prefix: str, pid: int, *, with_postgres: bool
) -> LoadResult:
    """The load, with the CPU it cost each process per successful call."""
    server, loadgen = process_cpu(pid), children_cpu()
    database = postgres_cpu() if with_postgres else {}
    load = _load(target, kind, options, prefix, options.duration)
    calls = max(load.successes, 1)
    return replace(
        load,
        server_cpu_ms=1000 * (process_cpu(pid) - server) / calls,
        database_cpu_ms=(
            1000 * postgres_cpu_spent(database, postgres_cpu()) / calls if with_postgres else None
        ),
        loadgen_cpu_ms=1000 * (children_cpu() - loadgen) / calls,
    )


def _load(
    target: Target, kind: str, options: TillOptions, prefix: str, duration: float
) -> LoadResult:
    return run_load(
        options.generator,
        target,
        kind,
        amount=options.amount,
        reference_prefix=prefix,
        connections=options.connections,
        duration=duration,
    )


def _settle(engine: Engine, timeout: float = 30) -> Snapshot:
    """Wait until the requests still in flight when the load stopped have finished."""
    deadline = time.monotonic() + timeout
    last = snapshot(engine)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = snapshot(engine)
        if now == last:
            return now
        last = now
    return last


def run_framework_ceiling(options: TillOptions, folder: Path, log: Log) -> LoadResult:
    """The bare FastAPI endpoint, served the same way, under the balance call's load."""
    folder.mkdir(parents=True, exist_ok=True)
    codes_file = folder / "codes.txt"
    codes_file.write_text("6301190000000000000\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    log(f"framework ceiling: bare FastAPI, {options.connections} connections")
    with serve(bare_command(port, options.workers), port, env, folder / "bare.log") as served:
        target = Target(
            url=served.url,
            codes_file=codes_file,
            store_id="BARE",
            product_id=1,
            username="bare",
            password="bare",
        )
        if options.warmup > 0:
            _load(target, "balance", options, "warm", options.warmup)
        return _measured(target, "balance", options, "bare", served.pid, with_postgres=False)
