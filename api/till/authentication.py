"""Who a till request is, decided before anything else about it is read.

API passwords are random secrets stored as SHA-256 digests (api.credentials.passwords):
checking one is a digest and a constant-time comparison, whatever the username names.
A process keeps what it has looked up, by username: a credential's ID and digest (they
never change; whether it is revoked is asked of the database by every call, so a
revocation holds at once), and, for a short while, that a username names nothing
usable. So a till's calls, and a flood of wrong passwords for a real username, cost no
database work here; the first call of a username does.

What an anonymous client can make a process spend is bounded: usernames no credential
could have are refused without a look-up; look-ups of usernames not yet known run a
few at a time, with a bounded queue (beyond it, 503 unavailable); both caches are
bounded LRUs. Credentials stored by an earlier version as argon2 hashes are verified in
a worker thread, one at a time (a bounded queue again), and re-stored as a digest on
their first success, after which they cost what the others do.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.core.config import Settings
from api.core.errors import Unauthorized, Unavailable
from api.credentials import passwords
from api.till.caller import MAX_USERNAME_LENGTH, TillIdentity, parse_basic

# How long a process remembers that a username names no usable credential.
UNKNOWN_USERNAME_SECONDS = 30.0
# Requests waiting for a credential look-up, or for an argon2 check, beyond which the
# process answers 503 rather than queue more.
MAX_WAITING_LOOKUPS = 256
MAX_WAITING_ARGON2 = 16

_REFUSED = "Unknown or revoked credential."


@dataclass(frozen=True)
class StoredCredential:
    """What the database holds for a username: the user and its password's digest (or,
    for rows from before digests, its argon2 hash). None of a revoked user."""

    user_id: int
    password_hash: str


LookUp = Callable[[str], Awaitable[StoredCredential | None]]
StoreDigest = Callable[[int, str, str], Awaitable[None]]


class _Queue:
    """At most ``running`` at a time, and at most ``waiting`` queued behind them."""

    def __init__(self, running: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(running)
        self._capacity = running + waiting
        self._inside = 0

    async def __aenter__(self) -> None:
        if self._inside >= self._capacity:
            raise Unavailable("The ledger is busy checking credentials; try again shortly.")
        self._inside += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self._inside -= 1
            raise

    async def __aexit__(self, *_: object) -> None:
        self._slots.release()
        self._inside -= 1


class Authenticator:
    def __init__(
        self, settings: Settings, look_up: LookUp, store_digest: StoreDigest, lookups_at_once: int
    ) -> None:
        self._look_up = look_up
        self._store_digest = store_digest
        self._capacity = max(1, settings.credential_cache_size)
        self._known: OrderedDict[str, StoredCredential] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()  # username -> forget at
        self._in_flight: dict[str, asyncio.Future[StoredCredential | None]] = {}
        self._lookups = _Queue(max(1, lookups_at_once), MAX_WAITING_LOOKUPS)
        self._argon2 = _Queue(1, MAX_WAITING_ARGON2)
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost_kib
        )

    async def identify(self, authorization: str | None) -> TillIdentity:
        """The integration user whose password ``authorization`` carries, or 401 (503
        when the look-up queue is full)."""
        username, password = parse_basic(authorization)
        stored = await self._stored(username)
        if stored is None or passwords.is_digest(stored.password_hash):
            # The same work whatever the username names: one digest, one comparison.
            hash_ = stored.password_hash if stored is not None else None
            if not passwords.digest_matches(password, hash_) or stored is None:
                raise Unauthorized(_REFUSED)
            return TillIdentity(stored.user_id, username, stored.password_hash)
        digest = await self._verify_argon2(username, stored, password)
        if digest is None:
            raise Unauthorized(_REFUSED)
        return TillIdentity(stored.user_id, username, digest)

    def forget(self, username: str) -> None:
        """Drop what this process knows of ``username`` (its row changed)."""
        self._known.pop(username, None)
        self._unknown.pop(username, None)

    async def _stored(self, username: str) -> StoredCredential | None:
        known = self._known.get(username)
        if known is not None:
            self._known.move_to_end(username)
            return known
        if len(username) > MAX_USERNAME_LENGTH or self._recently_unknown(username):
            return None
        # One look-up per username at a time: a till fleet's first calls share it.
        pending = self._in_flight.get(username)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[StoredCredential | None] = asyncio.get_running_loop().create_future()
        self._in_flight[username] = future
        try:
            async with self._lookups:
                found = await self._look_up(username)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        else:
            future.set_result(found)
            self._remember(username, found)
            return found
        finally:
            del self._in_flight[username]

    def _remember(self, username: str, found: StoredCredential | None) -> None:
        if found is None:
            self._unknown[username] = time.monotonic() + UNKNOWN_USERNAME_SECONDS
            self._unknown.move_to_end(username)
            _trim(self._unknown, self._capacity)
        else:
            self._unknown.pop(username, None)
            self._known[username] = found
            self._known.move_to_end(username)
            _trim(self._known, self._capacity)

    def _recently_unknown(self, username: str) -> bool:
        forget_at = self._unknown.get(username)
        if forget_at is None:
            return False
        if forget_at <= time.monotonic():
            del self._unknown[username]
            return False
        return True

    async def _verify_argon2(
        self, username: str, stored: StoredCredential, password: str
    ) -> str | None:
        """The password's digest, now stored in place of the argon2 hash it matches
        (None: it does not match)."""
        async with self._argon2:
            current = self._known.get(username, stored)
            if passwords.is_digest(current.password_hash):  # re-stored while this waited
                matches = passwords.digest_matches(password, current.password_hash)
                return current.password_hash if matches else None
            try:
                await to_thread.run_sync(self._hasher.verify, current.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            digest = passwords.digest(password)
            await self._store_digest(current.user_id, current.password_hash, digest)
            self._remember(username, StoredCredential(current.user_id, digest))
            return digest


def _trim(cache: OrderedDict[str, Any], capacity: int) -> None:
    while len(cache) > capacity:
        cache.popitem(last=False)
