"""Settings for the ledger, read from environment variables prefixed ``LEDGER_``.

Secrets have no default. On the embedded default (``LEDGER_ENVIRONMENT=development``)
a missing admin token is generated once and kept in ``var/admin-token`` so that the
flows and the CLI on the same machine can read it; outside development a missing
token stops the service at start-up.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.development import (
    VAR_DIR,
    Environment,
    development_admin_token,
    refuse_short_admin_token,
)

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'ledger.sqlite3'}"


class Settings(BaseSettings):
    # An error must not echo its input: a refusal of one setting would print them all,
    # secrets included.
    model_config = SettingsConfigDict(
        env_prefix="LEDGER_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = "development"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for the admin API. Required in production."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL under which tills reach this ledger (put in the Polaris file).",
    )
    throttle_max_failures: int = Field(default=20, ge=1)
    throttle_window_seconds: int = Field(default=60, ge=1)
    # argon2 costs. The defaults are argon2-cffi's; tests lower them to stay fast.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    credential_cache_size: int = Field(default=1024, ge=0)
    # Threads per process running the admin API's database work (see api.main); the
    # till API takes none.
    worker_threads: int = Field(default=4, ge=1)
    # Connections kept open: the till API's pool on PostgreSQL (api.till.postgres), and
    # the admin API's, where each worker thread holds at most one at a time and FastAPI
    # closes sessions from a thread of its own. A pool smaller than what is in use
    # closes and reopens connections under load (a new PostgreSQL backend each time).
    db_pool_size: int = Field(default=8, ge=1)
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _refuse_a_pool_smaller_than_the_threads(self) -> Settings:
        # The pool opens up to twice db_pool_size connections; with more threads than
        # that, the extra ones wait on the pool under load, and time out with a 500.
        if 2 * self.db_pool_size < self.worker_threads + 1:
            raise ValueError(
                f"LEDGER_DB_POOL_SIZE ({self.db_pool_size}) must be at least half of "
                f"LEDGER_WORKER_THREADS + 1 ({self.worker_threads + 1}): each worker thread "
                "holds a connection, and sessions are closed from one more"
            )
        return self

    @model_validator(mode="after")
    def _refuse_missing_secrets_in_production(self) -> Settings:
        refuse_short_admin_token(
            self.admin_token,
            self.environment,
            token_variable="LEDGER_ADMIN_TOKEN",
            environment_variable="LEDGER_ENVIRONMENT",
        )
        return self

    def resolved_admin_token(self) -> str:
        """The admin token in force; in development, created once under var/ if unset."""
        if self.admin_token is not None:
            return self.admin_token.get_secret_value()
        return development_admin_token()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
