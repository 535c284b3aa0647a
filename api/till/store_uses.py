"""A credential's first use at each store, noted cheaply (issue 12: a credential
rotation waits until Polaris's tills are seen using the new credential, and shows from
which stores).

What counts is a till call the ledger took as coming from a store of the credential's
own account: the contract checks credential, throttle, shape, then store, then the rest
(till-api.md), so an answer of 200 or 201, or a 404 or 409 about the voucher, product,
transaction or reference, was given after the store check passed. A 401, 403
unknown_store, 413, 422 or 503 was not, and a 429 may come before it: none counts.

Each process remembers which (credential, store) pairs it has noted (a bounded LRU),
so a pair costs one insert-if-absent the first time this process sees it and nothing
after: never a write per call. The note is made after the answer, by one task of its
own, one note at a time (on PostgreSQL it holds at most one of the till's connections,
and for at most ``store_use_note_timeout_seconds``); a note that fails is logged and
forgotten, so the pair's next call tries again. Several processes noting the same
pair leave one row, the first one's (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import datetime

from api.core.types import utcnow
from api.till.backend import TillBackend

logger = logging.getLogger("api.till")

# Answers given after the store check passed (see above).
COUNTED = frozenset({200, 201, 404, 409})
# Pairs waiting for their note; beyond this a pair is left for its next call.
MAX_WAITING = 1024

Pair = tuple[int, str]


class StoreUses:
    def __init__(self, backend: TillBackend, capacity: int, patience: float) -> None:
        self._backend = backend
        self._capacity = max(1, capacity)
        self._patience = patience
        self._noted: OrderedDict[Pair, None] = OrderedDict()
        self._waiting: dict[Pair, datetime] = {}
        self._worker: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """No note waiting or being written (for tests and shutdown)."""
        return not self._waiting

    def after_answer(self, user_id: int, store_id: str, status: int) -> None:
        """Called with every till answer of a route: notes the pair the first time it
        counts. A set look-up for every call after that."""
        if status not in COUNTED:
            return
        pair = (user_id, store_id)
        if pair in self._noted:
            self._noted.move_to_end(pair)
            return
        if pair in self._waiting or len(self._waiting) >= MAX_WAITING:
            return
        self._waiting[pair] = utcnow()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._note_waiting())

    async def close(self) -> None:
        """Let the notes under way finish (a moment), then drop the rest: their pairs
        are noted by the next process their tills call."""
        worker = self._worker
        if worker is None or worker.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(worker), timeout=self._patience)
        except TimeoutError:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    async def _note_waiting(self) -> None:
        while self._waiting:
            pair, at = next(iter(self._waiting.items()))
            try:
                await self._backend.note_store_use(pair[0], pair[1], at)
            except Exception as error:  # any failure: the answer went; the next call retries
                logger.warning(
                    "could not note integration user %s's first use of store %r "
                    "(%s: %s); its next call there tries again",
                    pair[0],
                    pair[1],
                    type(error).__name__,
                    error,
                )
            else:
                self._noted[pair] = None
                while len(self._noted) > self._capacity:
                    self._noted.popitem(last=False)
            finally:
                del self._waiting[pair]
