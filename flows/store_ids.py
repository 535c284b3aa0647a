"""The store-ID form a waiting onboarding shows in the Prefect UI, and its checks.

The form is a Prefect ``RunInput`` built per onboarding: one field per site,
labelled with the site's name. The Prefect UI renders it on the suspended run; the
CLI submits the same input through the same resume call.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect.input import RunInput
from pydantic import Field, create_model

FIELD_PREFIX = "site_"


def field_name(site_id: int) -> str:
    return f"{FIELD_PREFIX}{site_id}"


def store_id_form(sites: list[dict[str, Any]]) -> type[RunInput]:
    fields: dict[str, Any] = {
        field_name(site["id"]): (
            str,
            Field(
                title=site["name"],
                description=f"{site['address']} (site {site['id']}, reference {site['reference']})",
                min_length=1,
                max_length=64,
            ),
        )
        for site in sites
    }
    return create_model("PolarisStoreIds", __base__=RunInput, **fields)


def form_description(merchant: str, problems: list[str]) -> str:
    text = (
        f"### Polaris store IDs for {merchant}\n\n"
        "Enter the store ID Polaris gave for each site, then resume the run."
    )
    if problems:
        text += "\n\n**The last answer was not used:**\n" + "\n".join(f"- {p}" for p in problems)
    return text


def answer_by_site(answer: RunInput, sites: list[dict[str, Any]]) -> dict[int, str]:
    values = answer.model_dump()
    return {site["id"]: str(values.get(field_name(site["id"]), "") or "").strip() for site in sites}


def problems_with(
    store_ids: dict[int, str], sites: list[dict[str, Any]], account_sites: list[dict[str, Any]]
) -> list[str]:
    """Why these store IDs cannot be saved (empty when they can)."""
    names = {site["id"]: site["name"] for site in account_sites}
    problems = [f"{names[s]}: a store ID is required." for s, v in store_ids.items() if not v]
    repeated = sorted(v for v, n in Counter(v for v in store_ids.values() if v).items() if n > 1)
    problems += [
        f"Store ID {v!r} is given to more than one site: "
        + ", ".join(names[s] for s, given in store_ids.items() if given == v)
        + "."
        for v in repeated
    ]
    in_scope = {site["id"] for site in sites}
    used = {
        site["store_id"]: site["name"]
        for site in account_sites
        if site.get("store_id") and site["id"] not in in_scope
    }
    problems += [
        f"{names[s]}: store ID {v!r} is already used by {used[v]}."
        for s, v in store_ids.items()
        if v in used
    ]
    return problems
