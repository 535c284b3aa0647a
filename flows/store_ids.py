"""The store-ID form a waiting onboarding shows in the Prefect UI, and its checks.

The form is a Prefect ``RunInput`` built per onboarding: one field per site,
labelled with the site's name. The Prefect UI renders it on the suspended run; the
CLI and the ledger's store-ID page submit the same input through the same resume call.
"""

from __future__ import annotations

from typing import Any

from prefect.input import RunInput
from pydantic import Field, create_model

# The checks (and the field names) are the contract's: the ledger's store-ID page runs
# the very same ones.
from contract.store_ids import FIELD_PREFIX as FIELD_PREFIX
from contract.store_ids import MAX_STORE_ID_LENGTH
from contract.store_ids import field_name as field_name
from contract.store_ids import problems_with as problems_with


def store_id_form(sites: list[dict[str, Any]]) -> type[RunInput]:
    fields: dict[str, Any] = {
        field_name(site["id"]): (
            str,
            Field(
                title=site["name"],
                description=f"{site['address']} (site {site['id']}, reference {site['reference']})",
                min_length=1,
                max_length=MAX_STORE_ID_LENGTH,
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
