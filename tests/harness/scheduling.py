"""Which xdist worker runs what: the tests on the session's shared system all on one
worker, so that the system (Prefect server, ledger, flows runner) starts once per
run and not once per worker, while the other worker runs the rest of the suite.

xdist's own ``--dist loadgroup`` would do this from ``xdist_group`` marks, but with
pytest 9 it no longer can (it renames a test by setting ``item._nodeid``, which
pytest 9 ignores), and the controller that schedules never sees a test's fixtures.
So the group is found from the source: a test module whose functions take one of
the shared system's fixtures goes, whole, to the group. A module missed costs only
time (the system is started on the other worker too), never a wrong result.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadGroupScheduling

GROUP = "shared-system"
# The fixtures that stand for the session's shared system (harness.system_fixtures).
SHARED_FIXTURES = frozenset(
    {
        "prefect_server",
        "ledger_service",
        "ledger_admin",
        "flow_env",
        "flows_runner",
        "onboarding_cli",
    }
)


def uses_shared_system(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError):
        return False
    return any(
        arg.arg in SHARED_FIXTURES
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _test_or_fixture(node)
        for arg in node.args.args
    )


def _test_or_fixture(node: ast.FunctionDef) -> bool:
    """A test function, or a fixture (whose arguments are fixtures too)."""
    return node.name.startswith("test") or any(
        "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
    )


class SharedSystemScheduling(LoadGroupScheduling):
    """``loadgroup``, with the modules on the shared system as one more group."""

    def __init__(self, *args: object, rootdir: Path, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._rootdir = rootdir

    def _split_scope(self, nodeid: str) -> str:
        if _shared(self._rootdir, nodeid.split("::", 1)[0]):
            return GROUP
        return super()._split_scope(nodeid)


@cache
def _shared(rootdir: Path, module: str) -> bool:
    return module.endswith(".py") and uses_shared_system(rootdir / module)
