"""Benchmarks: the till API against the database's limit and the framework's ceiling,
and the onboarding's overhead. ``scripts/bench`` runs them (``--smoke`` for a quick
proof that they still run); results go to ``bench/results/``."""
