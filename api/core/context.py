"""What one running ledger process holds: settings, database, password hasher, caches.

Built once in the app's lifespan and reached from requests through ``request.app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from api.core.config import Settings
from api.core.db import Database
from api.credentials.cache import VerifiedCredentialCache


@dataclass
class LedgerContext:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    verified_credentials: VerifiedCredentialCache

    @classmethod
    def from_settings(cls, settings: Settings) -> LedgerContext:
        return cls(
            settings=settings,
            db=Database.from_settings(settings),
            hasher=PasswordHasher(
                time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost_kib
            ),
            verified_credentials=VerifiedCredentialCache(settings.credential_cache_size),
        )

    def close(self) -> None:
        self.db.dispose()
