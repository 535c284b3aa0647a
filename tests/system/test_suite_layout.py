"""Each part of the suite imports only what the environment that will run it has:
tests/ledger no Prefect and no flows; tests/onboarding and tests/system no ledger
code (``api``), since the onboarding environment does not install it. The harness
keeps its ledger-only modules apart, and imports nothing through ``tests.``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
# The harness modules that import the ledger's code, for tests/ledger only.
LEDGER_ONLY_HARNESS = {"harness.databases", "harness.ledger_app", "harness.ledger_fixtures"}
# What each part may not import, by top-level name (or harness module).
FORBIDDEN = {
    "ledger": {"flows", "prefect"},
    "onboarding": {"api", *LEDGER_ONLY_HARNESS},
    "system": {"api", *LEDGER_ONLY_HARNESS},
}


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (in functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _hits(module: str, forbidden: set[str]) -> bool:
    return any(module == f or module.startswith(f"{f}.") for f in forbidden)


def _local(path: Path) -> str:
    return str(path.relative_to(TESTS.parent))


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_its_environment_has(part: str) -> None:
    wrong = {
        f"{_local(path)}: {module}"
        for path in sorted((TESTS / part).rglob("*.py"))
        for module in imports_of(path)
        if _hits(module, FORBIDDEN[part])
    }
    assert not wrong, f"tests/{part} imports what its environment will not have:\n" + "\n".join(
        sorted(wrong)
    )


def test_the_harness_is_self_contained() -> None:
    """Importable without the test suite (bench/ uses it; later it is installed)."""
    wrong = {
        f"{_local(path)}: {module}"
        for path in sorted((TESTS / "harness").rglob("*.py"))
        for module in imports_of(path)
        if _hits(module, {"tests"})
    }
    assert not wrong, "the harness imports through tests.:\n" + "\n".join(sorted(wrong))


def test_only_the_ledger_modules_of_the_harness_import_the_ledger() -> None:
    wrong = {
        f"{_local(path)}: {module}"
        for path in sorted((TESTS / "harness").rglob("*.py"))
        if f"harness.{path.stem}" not in LEDGER_ONLY_HARNESS
        for module in imports_of(path)
        if _hits(module, {"api", *LEDGER_ONLY_HARNESS})
    }
    assert not wrong, "harness modules the onboarding environment loads import api:\n" + "\n".join(
        sorted(wrong)
    )


def test_no_conftest_is_imported() -> None:
    """Fixtures come from the harness's plugins, never from another conftest."""
    wrong = {
        f"{_local(path)}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in imports_of(path)
        if module.split(".")[-1] == "conftest"
    }
    assert not wrong, "\n".join(sorted(wrong))
