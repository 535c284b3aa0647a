"""The results as tables, from a results file's data: printed at the end of a run and
written beside the JSON as markdown.

    python -m bench.render bench/results/latest.json   (prints the tables again)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _table(headers: list[str], lines: list[list[str]]) -> str:
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(headers), rule, *(fmt(line) for line in lines)])


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def results_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "call",
        "database",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "req/s vs raw DB",
        "req/s vs framework",
        "p99 vs ceiling (attacked: vs without)",
        "server CPU ms/call",
        "PG CPU ms/call",
    ]
    lines = [
        [
            row["call"],
            row["database"],
            f"{row['rps']:.0f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            f"{row['max_ms']:.1f}",
            str(row["errors"]),
            _x(row.get("vs_raw_db")),
            _x(row.get("vs_framework")),
            _x(row.get("p99_vs_reference")),
            _ms(row.get("server_cpu_ms")),
            _ms(row.get("database_cpu_ms")),
        ]
        for row in rows
    ]
    return _table(headers, lines)


def targets_table(targets: list[dict[str, Any]]) -> str:
    lines = [[t["target"], t["figure"], "met" if t["met"] else "MISSED"] for t in targets]
    return _table(["target", "figure", ""], lines)


def reconciliation(till: list[dict[str, Any]]) -> str:
    lines = []
    for database in till:
        found = database["reconciliation"]
        ledger = found["ledger"]
        parts = []
        if ledger is not None:
            state = "balanced" if ledger["balanced"] else f"{ledger['mismatches']} mismatched"
            parts.append(
                f"GET /admin/reconciliation: {state} ({ledger['vouchers_checked']} vouchers)"
            )
        for phase in found["phases"]:
            if phase["kind"] == "balance":
                parts.append(f"balance: no money moved ({phase['balance_change']:+d}p)")
                continue
            parts.append(
                f"{phase['kind']}: {phase['recorded']} successful x amount = "
                f"{phase['expected_change']:+d}p; balances moved {phase['balance_change']:+d}p; "
                f"ledger entries {phase['entries_total']:+d}p"
                f"{'' if phase['clean'] else ' (MISMATCH)'}"
            )
        lines.append(f"- {database['database']}: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def _legs(legs: dict[str, float]) -> str:
    if not legs:
        return "-"
    return f"{legs['runner_pickup_s']:.1f} + {legs['process_start_s']:.1f} + {legs['flow_s']:.1f}"


def onboarding(data: dict[str, Any]) -> str:
    lines = [
        "Onboarding, on the embedded default (SQLite ledger, Prefect server, flows served)",
        "",
        "| sites | start -> waiting for store IDs | store IDs -> verified | till calls verified "
        "| flow-run process peak RSS |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {t['sites']} | {t['start_to_waiting_s']:.1f} s ({_legs(t['start_legs'])}) "
        f"| {t['resume_to_verified_s']:.1f} s ({_legs(t['resume_legs'])}) "
        f"| {t['calls_verified']} | {t['flow_run_peak_rss_mib']:.0f} MiB |"
        for t in data["timings"]
    ]
    lines += [
        "",
        "Times split as: the runner picking the run up (it polls the Prefect server) + the "
        "flow-run process starting + the flow's own work.",
        "",
        "| always-on process | RSS, idle | RSS, onboardings waiting |",
        "|---|---|---|",
    ]
    waiting = {m["role"]: m for m in data["memory_while_waiting"]}
    for memory in data["memory_idle"]:
        other = waiting.get(memory["role"])
        while_waiting = f"{other['rss_mib']:.0f} MiB" if other else "-"
        lines.append(f"| {memory['role']} | {memory['rss_mib']:.0f} MiB | {while_waiting} |")
    lines += [
        "",
        f"{data['runs_waiting']} onboardings waiting for store IDs (started in "
        f"{data['fill_seconds']:.0f} s): {data['processes_while_waiting']} processes in the "
        f"always-on process trees, as with none waiting ({data['processes_always_on']}): "
        f"{data['processes_held_while_waiting']} held by the waiting runs.",
    ]
    return "\n".join(lines)


def render(data: dict[str, Any]) -> str:
    settings = data["settings"]
    parts = []
    if data["rows"]:
        parts += [
            f"Till API: {settings['connections']} connections, {settings['duration_s']:g} s "
            f"per call after {settings['warmup_s']:g} s of warm-up, load by "
            f"{settings['load_generator']}; `ledger serve` with "
            f"{settings.get('ledger_workers', 1)} worker process(es)",
            "",
            results_table(data["rows"]),
            "",
        ]
    attacks = [
        f"{t['database']}: {t['attack']['wrong_password_requests']} wrong-password calls and "
        f"{t['attack']['big_body_requests']} 10 MB bodies"
        for t in data.get("till", [])
        if t.get("attack")
    ]
    if attacks:
        parts += [
            "While attacked, 16 clients sent wrong passwords for another merchant's username "
            "and 3 clients with no credential posted 10 MB bodies, meanwhile: "
            + "; ".join(attacks)
            + ".",
            "",
        ]
    parts.append(targets_table(data["targets"]))
    if data["till"]:
        parts += ["", "Reconciliation after the load:", "", reconciliation(data["till"])]
    if data.get("onboarding"):
        parts += ["", onboarding(data["onboarding"])]
    return "\n".join(parts)


def markdown(data: dict[str, Any]) -> str:
    machine = data["machine"]
    load = data["settings"].get("load_average_1m_at_start")
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Generated {data['generated_at']} by `{data['settings']['command']}` on "
            f"{machine['cpus']} CPUs ({machine['platform']}), Python {machine['python']}"
            + (f", load average {load} when it started" if load is not None else "")
            + ".",
            "",
            "Our figures beside their references, from the same run: the redemption "
            "transaction driven straight at the same database with the same concurrency "
            "(raw DB), and the fastest FastAPI answer of the balance call's shape (an `async "
            "def` endpoint answering from memory) served the same way (framework). Rates "
            "count successful calls; CPU is per successful call.",
            "",
            render(data),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    print(render(json.loads(args.results.read_text())))


if __name__ == "__main__":
    main()
