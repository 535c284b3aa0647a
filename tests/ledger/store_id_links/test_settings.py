"""The store-ID page's settings: in development the signing key is made once under
var/ (as the admin token is); in production the key and Prefect's API URL must be
given, and `ledger serve` says so in one line without echoing any secret."""

from __future__ import annotations

from pathlib import Path

from api.core.config import Settings
from contract.development import STORE_ID_LINK_KEY_FILENAME, development_store_id_link_key
from harness.processes import free_port
from tests.ledger.cli.test_ledger_cli import assert_clean_failure, run_ledger

STRONG = "a-production-secret-0123456789abcdef0123456789"


def test_the_development_key_is_made_once_under_var(tmp_path: Path) -> None:
    key = development_store_id_link_key(tmp_path)
    assert len(key) >= 32 and development_store_id_link_key(tmp_path) == key
    assert (tmp_path / STORE_ID_LINK_KEY_FILENAME).read_text() == key


def test_development_defaults_prefect_to_where_scripts_up_runs_it() -> None:
    settings = Settings(database_url="sqlite://", admin_token=STRONG, store_id_link_key=STRONG)
    assert settings.resolved_prefect_api_url == "http://127.0.0.1:4200/api"
    assert settings.resolved_store_id_link_key() == STRONG


def test_production_needs_the_link_key_and_prefects_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    production = {"LEDGER_ENVIRONMENT": "production", "LEDGER_ADMIN_TOKEN": STRONG}
    port = str(free_port())
    no_key = run_ledger(url, "serve", "--port", port, **production)
    assert_clean_failure(no_key, "LEDGER_STORE_ID_LINK_KEY", "32 characters", "production")
    short_key = "short-key-9f8e7d"
    short = run_ledger(url, "migrate", **production, LEDGER_STORE_ID_LINK_KEY=short_key)
    assert_clean_failure(short, "LEDGER_STORE_ID_LINK_KEY")
    assert short_key not in short.stderr
    no_prefect = run_ledger(url, "migrate", **production, LEDGER_STORE_ID_LINK_KEY=STRONG)
    assert_clean_failure(no_prefect, "LEDGER_PREFECT_API_URL", "production")
    assert STRONG not in no_prefect.stderr
    assert not (tmp_path / "ledger.sqlite3").exists()
    done = run_ledger(
        url,
        "migrate",
        **production,
        LEDGER_STORE_ID_LINK_KEY=STRONG,
        LEDGER_PREFECT_API_URL="http://prefect.internal:4200/api",
    )
    assert done.returncode == 0, done.stderr
