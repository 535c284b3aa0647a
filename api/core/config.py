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
    development_store_id_link_key,
    refuse_short_admin_token,
)

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'ledger.sqlite3'}"
# Where scripts/up runs Prefect's server.
DEVELOPMENT_PREFECT_API_URL = "http://127.0.0.1:4200/api"


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
        description="Base URL under which tills and Polaris reach this ledger (the store-ID "
        "links in the emails to Polaris start with it).",
    )
    # The store-ID page (api/store_id_links): its signing key, the Prefect server whose
    # waiting flow runs it resumes, and what one link may cost.
    store_id_link_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the store-ID links. Required (32+ chars) in production; "
        "in development, generated once into var/store-id-link-key.",
    )
    prefect_api_url: str | None = Field(
        default=None,
        description="Prefect's API, e.g. http://prefect.internal:4200/api. Required in "
        "production; in development, http://127.0.0.1:4200/api (where scripts/up runs it).",
    )
    prefect_api_auth_string: SecretStr | None = Field(
        default=None, description="As PREFECT_API_AUTH_STRING: 'user:password' for basic auth."
    )
    prefect_api_key: SecretStr | None = Field(
        default=None, description="As PREFECT_API_KEY (Prefect Cloud): sent as a bearer token."
    )
    prefect_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    store_id_page_max_requests: int = Field(
        default=30, ge=1, description="Requests one store-ID link may make per window."
    )
    store_id_page_window_seconds: int = Field(default=60, ge=1)
    throttle_max_failures: int = Field(default=20, ge=1)
    throttle_window_seconds: int = Field(default=60, ge=1)
    # argon2 costs. The defaults are argon2-cffi's; tests lower them to stay fast.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    credential_cache_size: int = Field(default=1024, ge=0)
    # A credential's first use per store (api.till.store_uses): how many (credential,
    # store) pairs a process remembers as noted, and how long one note may wait for
    # the database (a lock) before it gives up, to be tried again on the pair's next call.
    store_use_cache_size: int = Field(default=16384, ge=1)
    store_use_note_timeout_seconds: float = Field(default=1.0, gt=0, le=60)
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
        refuse_short_admin_token(
            self.store_id_link_key,
            self.environment,
            token_variable="LEDGER_STORE_ID_LINK_KEY",
            environment_variable="LEDGER_ENVIRONMENT",
        )
        if self.environment != "development" and not self.prefect_api_url:
            raise ValueError(
                "LEDGER_PREFECT_API_URL must be set (the Prefect API the store-ID page resumes "
                f"onboardings through) when LEDGER_ENVIRONMENT={self.environment}"
            )
        return self

    def resolved_admin_token(self) -> str:
        """The admin token in force; in development, created once under var/ if unset."""
        if self.admin_token is not None:
            return self.admin_token.get_secret_value()
        return development_admin_token()

    def resolved_store_id_link_key(self) -> str:
        """The store-ID link key in force; in development, created once under var/."""
        if self.store_id_link_key is not None:
            return self.store_id_link_key.get_secret_value()
        return development_store_id_link_key()

    @property
    def resolved_prefect_api_url(self) -> str:
        return (self.prefect_api_url or DEVELOPMENT_PREFECT_API_URL).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
