"""What one running ledger process holds for every request: its settings and its
database (engine and sessions). Built once in the app's lifespan and reached from
requests through ``request.app.state``. The till path keeps what it needs beside it
(api.till.runtime).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.core.config import Settings
from api.core.db import Database


@dataclass
class LedgerContext:
    settings: Settings
    db: Database

    @classmethod
    def from_settings(cls, settings: Settings) -> LedgerContext:
        return cls(settings=settings, db=Database.from_settings(settings))

    def close(self) -> None:
        self.db.dispose()
