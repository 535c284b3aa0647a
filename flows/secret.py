"""A value that must stay in this process's memory.

The API password and the file password travel between the onboarding's tasks only
inside ``InMemorySecret``: its repr hides the value, and it refuses to be pickled or
turned into JSON, so if anything ever tried to persist it as a Prefect result, cache
key or parameter, the run would fail loudly instead of leaking it.
"""

from __future__ import annotations

from typing import NoReturn


class InMemorySecret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "InMemorySecret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("an InMemorySecret is never serialised")
