"""What importing a package really loads, seen from a fresh interpreter: the test
process itself has long since imported everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The ledger's server stack: its own package, its web framework, its ORM.
LEDGER_SERVER_PACKAGES = frozenset({"api", "fastapi", "sqlalchemy"})

_LIST_MODULES = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print("\\n".join(sys.modules))
"""


def packages_loaded_by(*modules: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing ``modules``
    (``api`` for ``api.core.config`` too)."""
    result = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, *modules],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {name.partition(".")[0] for name in result.stdout.split()}
