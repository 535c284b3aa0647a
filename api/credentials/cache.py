"""Remember which (user, password) pairs argon2 has already accepted in this process.

Only credentials stored before SHA-256 digests (credentials.passwords) still have an
argon2 hash, and only until their first successful use replaces it. argon2 is slow
on purpose (tens of milliseconds); a till calls many times a minute.
The cache keys on an HMAC of the password under a per-process random key, so it
holds nothing that reveals the password, and an entry is honoured only while it
names the user's current hash: a revoked user is refused by the caller's revocation
check, and a changed hash misses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict


class VerifiedCredentialCache:
    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[tuple[int, bytes], str] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    def is_verified(self, user_id: int, password: str, password_hash: str) -> bool:
        key = (user_id, self._digest(password))
        with self._lock:
            cached = self._entries.get(key)
            if cached is None:
                return False
            self._entries.move_to_end(key)
        return hmac.compare_digest(cached, password_hash)

    def remember(self, user_id: int, password: str, password_hash: str) -> None:
        if self._max_entries == 0:
            return
        key = (user_id, self._digest(password))
        with self._lock:
            self._entries[key] = password_hash
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
