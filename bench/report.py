"""The results as data: each figure of ours beside its reference, the targets checked,
every measurement kept (bench/results/NAME.json); bench.render turns it into tables."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.onboarding import OnboardingResult
from bench.till import BackendResult

# Issue 10's targets, each a ratio within one run.
WRITES_VS_RAW_TARGET = 0.4  # redeem and sell on PostgreSQL, against pgbench's redemptions
BALANCE_VS_FRAMEWORK_TARGET = 0.6  # balance, against the async framework ceiling
P99_VS_FRAMEWORK_TARGET = 3.0  # every till call's p99, against the ceiling's
P99_UNDER_ATTACK_TARGET = 3.0  # balance's p99 while attacked, against its p99 without


@dataclass
class Report:
    settings: dict[str, Any]
    backends: list[BackendResult] = field(default_factory=list)
    framework: LoadResult | None = None
    onboarding: OnboardingResult | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One row per figure: ours with both ratios, then the references."""
        rows: list[dict[str, Any]] = []
        ceiling = self.framework.rps if self.framework else 0.0
        for backend in self.backends:
            for load in backend.phases:
                rows.append(
                    {
                        "call": load.kind,
                        "database": backend.backend,
                        "rps": load.rps,
                        "p50_ms": load.p50_ms,
                        "p99_ms": load.p99_ms,
                        "max_ms": load.max_ms,
                        "errors": load.errors,
                        "server_cpu_ms": load.server_cpu_ms,
                        "database_cpu_ms": load.database_cpu_ms,
                        "vs_raw_db": _ratio(load.rps, backend.raw.tps),
                        "vs_framework": _ratio(load.rps, ceiling),
                        # Latency against the framework ceiling's.
                        "p99_vs_reference": _ratio(
                            load.p99_ms, self.framework.p99_ms if self.framework else 0.0
                        ),
                    }
                )
            attacked = backend.under_attack
            balance = next((p for p in backend.phases if p.kind == "balance"), None)
            if attacked is not None and balance is not None:
                rows.append(
                    {
                        "call": "balance, while attacked",
                        "database": backend.backend,
                        "rps": attacked.rps,
                        "p50_ms": attacked.p50_ms,
                        "p99_ms": attacked.p99_ms,
                        "max_ms": attacked.max_ms,
                        "errors": attacked.errors,
                        "server_cpu_ms": attacked.server_cpu_ms,
                        "database_cpu_ms": attacked.database_cpu_ms,
                        "vs_framework": _ratio(attacked.rps, ceiling),
                        # Latency against the same calls' without the attack.
                        "p99_vs_reference": _ratio(attacked.p99_ms, balance.p99_ms),
                    }
                )
        for backend in self.backends:
            raw = backend.raw
            rows.append(
                {
                    "call": f"raw redeem ({raw.tool})",
                    "database": backend.backend,
                    "rps": raw.tps,
                    "p50_ms": raw.p50_ms,
                    "p99_ms": raw.p99_ms,
                    "max_ms": raw.max_ms,
                    "errors": raw.errors,
                }
            )
        if self.framework:
            rows.append(
                {
                    "call": "framework ceiling (bare FastAPI)",
                    "database": "-",
                    "rps": self.framework.rps,
                    "p50_ms": self.framework.p50_ms,
                    "p99_ms": self.framework.p99_ms,
                    "max_ms": self.framework.max_ms,
                    "errors": self.framework.errors,
                    "server_cpu_ms": self.framework.server_cpu_ms,
                }
            )
        return rows

    def targets(self) -> list[dict[str, Any]]:
        checks: list[dict[str, Any]] = []
        ceiling = self.framework
        for backend in self.backends:
            name = backend.backend
            by_kind = {load.kind: load for load in backend.phases}
            if name == "postgresql":
                for kind in ("redeem", "sell"):
                    if kind in by_kind:
                        ratio = _ratio(by_kind[kind].rps, backend.raw.tps)
                        checks.append(
                            _check(
                                f"{kind} on PostgreSQL >= {WRITES_VS_RAW_TARGET}x raw pgbench",
                                f"{ratio:.2f}x",
                                ratio >= WRITES_VS_RAW_TARGET,
                            )
                        )
            if ceiling is not None and "balance" in by_kind:
                ratio = _ratio(by_kind["balance"].rps, ceiling.rps)
                checks.append(
                    _check(
                        f"balance on {name} >= {BALANCE_VS_FRAMEWORK_TARGET}x framework ceiling",
                        f"{ratio:.2f}x",
                        ratio >= BALANCE_VS_FRAMEWORK_TARGET,
                    )
                )
            worst = max(backend.phases, key=lambda load: load.p99_ms, default=None)
            if worst is not None and ceiling is not None:
                ratio = _ratio(worst.p99_ms, ceiling.p99_ms)
                checks.append(
                    _check(
                        f"p99 of every till call on {name} <= {P99_VS_FRAMEWORK_TARGET:g}x "
                        "the framework ceiling's",
                        f"{ratio:.2f}x ({worst.kind} {worst.p99_ms:.1f} ms; "
                        f"ceiling {ceiling.p99_ms:.1f} ms)",
                        ratio <= P99_VS_FRAMEWORK_TARGET,
                    )
                )
            attacked, balance = backend.under_attack, by_kind.get("balance")
            if attacked is not None and balance is not None:
                ratio = _ratio(attacked.p99_ms, balance.p99_ms)
                checks.append(
                    _check(
                        f"balance p99 on {name} while attacked <= "
                        f"{P99_UNDER_ATTACK_TARGET:g}x without",
                        f"{ratio:.2f}x ({attacked.p99_ms:.1f} ms against {balance.p99_ms:.1f} ms)",
                        ratio <= P99_UNDER_ATTACK_TARGET,
                    )
                )
            phases = [*backend.phases, *([attacked] if attacked else [])]
            errors = sum(load.errors for load in phases)
            checks.append(_check(f"0 errors on {name}", str(errors), errors == 0))
            checks.append(
                _check(
                    f"reconciliation clean on {name}",
                    "clean" if backend.clean else "MISMATCH (see below)",
                    backend.clean,
                )
            )
        if self.onboarding is not None:
            held = self.onboarding.processes_held_while_waiting
            checks.append(
                _check(
                    f"processes held by {self.onboarding.waiting} waiting onboardings",
                    str(held),
                    held == 0,
                )
            )
        return checks

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": _machine(),
            "settings": self.settings,
            "rows": self.rows(),
            "targets": self.targets(),
            "till": [
                {
                    "database": b.backend,
                    "phases": [
                        {**asdict(p), "rps": p.rps, "errors": p.errors, "successes": p.successes}
                        for p in b.phases
                    ],
                    "raw_reference": asdict(b.raw),
                    "under_attack": (
                        {**asdict(b.under_attack), "rps": b.under_attack.rps}
                        if b.under_attack
                        else None
                    ),
                    "attack": asdict(b.attack) if b.attack else None,
                    "reconciliation": {
                        "ledger": asdict(b.ledger) if b.ledger else None,
                        "phases": [{**asdict(a), "clean": a.clean} for a in b.accounts],
                        "clean": b.clean,
                    },
                }
                for b in self.backends
            ],
            "framework_ceiling": (
                {**asdict(self.framework), "rps": self.framework.rps} if self.framework else None
            ),
            "onboarding": self.onboarding.to_json() if self.onboarding else None,
        }


def _ratio(ours: float, reference: float) -> float:
    return ours / reference if reference else 0.0


def _check(name: str, figure: str, met: bool) -> dict[str, Any]:
    return {"target": name, "figure": figure, "met": met}


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write(report: Report, folder: Path, name: str) -> tuple[Path, Path]:
    """``name``.json (every figure) and ``name``.md (the tables, rendered from it)."""
    from bench.render import markdown

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{name}.json"
    md_path = folder / f"{name}.md"
    data = report.to_json()
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path.write_text(markdown(data) + "\n")
    return json_path, md_path
