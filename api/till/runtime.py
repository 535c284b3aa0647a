"""What a ledger process keeps for the till path: the authenticator (with its cache of
verified credentials), the backend for its database and what it has noted of the
credentials' stores (store_uses), made when the app starts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from api.core.config import Settings
from api.core.db import Database
from api.core.errors import Unauthorized
from api.till.authentication import Authenticator
from api.till.backend import TillBackend
from api.till.caller import CredentialChanged, TillIdentity
from api.till.store_uses import StoreUses

T = TypeVar("T")


@dataclass(frozen=True)
class TillRuntime:
    authenticator: Authenticator
    backend: TillBackend
    store_uses: StoreUses

    @classmethod
    async def start(cls, settings: Settings, database: Database) -> TillRuntime:
        backend: TillBackend
        if database.writes_lock_database:
            from api.till.sqlite import SqliteTill

            backend = SqliteTill(settings)
        else:
            from api.till.postgres import PostgresTill

            backend = await PostgresTill.start(settings)
        authenticator = Authenticator(
            settings,
            look_up=backend.look_up_credential,
            store_digest=backend.store_digest,
            # Look-ups of usernames a process has not seen may hold at most half its
            # connections: anonymous clients cannot take the rest from known tills.
            lookups_at_once=max(1, settings.db_pool_size // 2),
        )
        store_uses = StoreUses(
            backend,
            capacity=settings.store_use_cache_size,
            patience=settings.store_use_note_timeout_seconds,
        )
        return cls(authenticator, backend, store_uses)

    async def call(
        self,
        identity: TillIdentity,
        authorization: str | None,
        work: Callable[[TillBackend, TillIdentity], Awaitable[T]],
    ) -> T:
        """``work`` for the caller; when the database says its password's hash is not
        the one this process checked it against (a row changed since it was cached),
        the password is checked again against the row and ``work`` done once more."""
        try:
            return await work(self.backend, identity)
        except CredentialChanged:
            self.authenticator.forget(identity.username)
        identity = await self.authenticator.identify(authorization)
        try:
            return await work(self.backend, identity)
        except CredentialChanged:  # changed once more in between: not for this request
            raise Unauthorized("Unknown or revoked credential.") from None

    async def close(self) -> None:
        await self.store_uses.close()
        await self.backend.close()
