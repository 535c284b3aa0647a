"""What an anonymous client can make a process spend on credential look-ups is bounded
(api.till.authentication): a few look-ups at a time, a bounded queue behind them (503
beyond it), one look-up per username however many ask at once. The database is stood
in for by a look-up the test controls, to hold look-ups in flight at will; the real
look-ups are covered over HTTP in test_till_path.py."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter

import pytest

from api.core.config import Settings
from api.core.errors import Unauthorized, Unavailable
from api.credentials import passwords
from api.till.authentication import MAX_WAITING_LOOKUPS, Authenticator, StoredCredential

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class HeldLookUps:
    """Look-ups that wait until released, counted by username."""

    def __init__(self, known: dict[str, StoredCredential]) -> None:
        self.known = known
        self.release = asyncio.Event()
        self.asked: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0

    async def look_up(self, username: str) -> StoredCredential | None:
        self.asked[username] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return self.known.get(username)

    async def store_digest(self, user_id: int, old: str, new: str) -> None:
        raise AssertionError("no argon2 rows here")


def _authenticator(lookups: HeldLookUps, at_once: int) -> Authenticator:
    settings = Settings(database_url="sqlite://", admin_token="x" * 32)
    return Authenticator(settings, lookups.look_up, lookups.store_digest, lookups_at_once=at_once)


async def test_lookups_of_unseen_usernames_are_bounded() -> None:
    lookups = HeldLookUps({})
    authenticator = _authenticator(lookups, at_once=2)
    strangers = 2 + MAX_WAITING_LOOKUPS + 10
    tasks = [
        asyncio.create_task(authenticator.identify(_basic(f"stranger-{n}", "guess")))
        for n in range(strangers)
    ]
    await asyncio.sleep(0.05)
    assert lookups.in_flight == 2
    # Beyond the queue: refused at once, with nothing looked up.
    turned_away = [t for t in tasks if t.done()]
    assert len(turned_away) == 10
    assert all(isinstance(t.exception(), Unavailable) for t in turned_away)
    lookups.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert Counter(type(r) for r in results) == {Unauthorized: strangers - 10, Unavailable: 10}
    assert lookups.most_in_flight == 2
    assert sum(lookups.asked.values()) == strangers - 10


async def test_one_lookup_per_username_however_many_ask() -> None:
    password = passwords.new_password()
    till = StoredCredential(user_id=7, password_hash=passwords.digest(password))
    lookups = HeldLookUps({"polaris-1-aaaaaaaa": till})
    authenticator = _authenticator(lookups, at_once=1)
    tasks = [
        asyncio.create_task(authenticator.identify(_basic("polaris-1-aaaaaaaa", password)))
        for _ in range(50)
    ]
    await asyncio.sleep(0.05)
    lookups.release.set()
    identities = await asyncio.gather(*tasks)
    assert {i.user_id for i in identities} == {7}
    assert lookups.asked == {"polaris-1-aaaaaaaa": 1}
    # Known now: a wrong password is refused without asking again.
    with pytest.raises(Unauthorized):
        await authenticator.identify(_basic("polaris-1-aaaaaaaa", "wrong"))
    assert lookups.asked == {"polaris-1-aaaaaaaa": 1}
