"""The benchmark's command line: ``python -m bench [--smoke] ...`` (``scripts/bench``)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.load import chosen_generator
from bench.render import render
from bench.report import Report, write
from bench.till import KINDS, TillOptions, run_backend, run_framework_ceiling

RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark the till API against the raw database and the framework "
        "ceiling, and measure the onboarding's overhead.",
    )
    parser.add_argument("--smoke", action="store_true", help="a seconds-long tiny run")
    parser.add_argument("--connections", type=int, help="concurrent connections (32)")
    parser.add_argument("--duration", type=float, help="seconds of load per call (10)")
    parser.add_argument("--warmup", type=float, help="seconds of unmeasured load first (2)")
    parser.add_argument("--vouchers", type=int, help="vouchers seeded per database (20000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--calls", default=",".join(KINDS), help="balance,redeem,sell")
    parser.add_argument("--workers", type=int, default=1, help="ledger serve --workers (1)")
    parser.add_argument("--skip-till", action="store_true")
    parser.add_argument("--skip-onboarding", action="store_true")
    parser.add_argument("--sites", help="site counts to onboard, comma-separated (1,20)")
    parser.add_argument("--waiting", type=int, help="onboardings left waiting at once (100)")
    parser.add_argument("--name", help="results file name (latest; smoke with --smoke)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--profile", type=Path, help="py-spy the ledger into this folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    smoke = args.smoke
    options = TillOptions(
        connections=args.connections or (4 if smoke else 32),
        duration=args.duration or (1.0 if smoke else 10.0),
        warmup=args.warmup if args.warmup is not None else (0.0 if smoke else 2.0),
        vouchers=args.vouchers or (200 if smoke else 20_000),
        amount=100,
        generator=chosen_generator(args.loadgen),
        profile_dir=args.profile,
        calls=tuple(c.strip() for c in args.calls.split(",") if c.strip()),
        workers=args.workers,
    )
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sites = [int(n) for n in (args.sites or ("1" if smoke else "1,20")).split(",")]
    waiting = args.waiting if args.waiting is not None else (2 if smoke else 100)
    report = Report(
        settings={
            "command": shlex.join(["scripts/bench", *(sys.argv[1:] if argv is None else argv)]),
            # Other work on the machine moves the rates (CPU per call much less).
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "vouchers": options.vouchers,
            "amount": options.amount,
            "load_generator": options.generator,
            "ledger_workers": options.workers,
            "calls": list(options.calls),
        }
    )
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    name = args.name or ("smoke" if smoke else "latest")
    # Stopped from outside (SIGTERM), clean up as on Ctrl-C: servers stopped, the
    # PostgreSQL database dropped, the temp dir removed.
    signal.signal(signal.SIGTERM, _interrupted)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        folder = Path(tmp)
        if not args.skip_till:
            for backend in backends:
                report.backends.append(run_backend(backend, options, folder / backend, say))
            report.framework = run_framework_ceiling(options, folder / "bare", say)
            # Written now too: the onboarding half takes longest.
            write(report, args.out, name)
        if not args.skip_onboarding:
            from bench.onboarding import run_in_onboarding_environment

            report.onboarding = run_in_onboarding_environment(
                sites, waiting, folder / "onboarding", say
            )
    json_path, md_path = write(report, args.out, name)
    print()
    print(render(json.loads(json_path.read_text())))
    print(f"\nWritten: {json_path} and {md_path}")
    return 0 if all(account_clean(report)) else 1


def account_clean(report: Report) -> list[bool]:
    """The run fails (exit 1) only when money does not add up; missed speed targets are
    findings, shown in the table, not failures."""
    return [backend.clean for backend in report.backends]


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
