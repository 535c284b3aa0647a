"""The checks every answer of Polaris's store IDs goes through, whichever way it comes
in: the flow (the Prefect UI form), the `onboarding store-ids` command and the
ledger's store-ID page all call these, so each refuses exactly what the others do.

Sites are plain dicts as the admin API lists them (``id``, ``name``, ``store_id``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

# The run input's field for a site: the Prefect form, the CLI and the page fill it in.
FIELD_PREFIX = "site_"
# As the admin API saves them (contract.merchants.StoreIdText): up to 64 printable
# ASCII characters. Checked here so that an answer the ledger would refuse is asked
# again, not accepted and then failed at "save store IDs".
MAX_STORE_ID_LENGTH = 64
_PRINTABLE = re.compile(r"^[ -~]+$")


def field_name(site_id: int) -> str:
    return f"{FIELD_PREFIX}{site_id}"


@dataclass(frozen=True)
class StoreIdProblem:
    """Why an answer cannot be saved, and the sites (fields) it is about."""

    site_ids: tuple[int, ...]
    message: str


def store_id_problems(
    store_ids: dict[int, str], sites: list[dict[str, Any]], account_sites: list[dict[str, Any]]
) -> list[StoreIdProblem]:
    """Every reason these store IDs (by site ID, already trimmed) cannot be saved for
    ``sites`` (the onboarding's), given all the account's sites: each site needs one,
    no two share one, none is used by another site of the account."""
    names = {site["id"]: site["name"] for site in account_sites}
    problems = [
        StoreIdProblem((s,), f"{names[s]}: a store ID is required.")
        for s, v in store_ids.items()
        if not v
    ]
    problems += [
        StoreIdProblem(
            (s,),
            f"{names[s]}: a store ID is at most {MAX_STORE_ID_LENGTH} characters of "
            "letters, digits, spaces and punctuation (no accents or symbols).",
        )
        for s, v in store_ids.items()
        if v and (len(v) > MAX_STORE_ID_LENGTH or not _PRINTABLE.match(v))
    ]
    repeated = sorted(v for v, n in Counter(v for v in store_ids.values() if v).items() if n > 1)
    for value in repeated:
        sharing = tuple(s for s, given in store_ids.items() if given == value)
        problems.append(
            StoreIdProblem(
                sharing,
                f"Store ID {value!r} is given to more than one site: "
                + ", ".join(names[s] for s in sharing)
                + ".",
            )
        )
    in_scope = {site["id"] for site in sites}
    used = {
        site["store_id"]: site["name"]
        for site in account_sites
        if site.get("store_id") and site["id"] not in in_scope
    }
    problems += [
        StoreIdProblem((s,), f"{names[s]}: store ID {v!r} is already used by {used[v]}.")
        for s, v in store_ids.items()
        if v in used
    ]
    return problems


def problems_with(
    store_ids: dict[int, str], sites: list[dict[str, Any]], account_sites: list[dict[str, Any]]
) -> list[str]:
    """Why these store IDs cannot be saved (empty when they can), in words."""
    return [problem.message for problem in store_id_problems(store_ids, sites, account_sites)]
