"""Sample data for the Polaris credentials file: a sheet with three sites."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flows.credentials_file import CredentialSheet, SheetSite

SAMPLE_SITES = [
    SheetSite(
        name="The Crown, Islington",
        address="12 Upper Street, London N1 0PQ",
        reference="CRN-01",
        site_id=101,
    ),
    SheetSite(
        name="The Anchor & Hope",
        address="36 The Cut, London SE1 8LP",
        reference="ANC-02",
        site_id=102,
    ),
    SheetSite(
        name="The Swan <Bath>",
        address="1 Pulteney Bridge, Bath BA2 4AT",
        reference="SWN-03",
        site_id=103,
    ),
]

# Recognisable, so a test can search any output for it.
SAMPLE_API_PASSWORD = "api-pw-Xq7LmN2vR9sT4wY8zB3cD6fG"


def sample_sheet(**overrides: Any) -> CredentialSheet:
    sheet = CredentialSheet(
        api_endpoint="https://gift.example/v1",
        username="polaris-crown-7f3a",
        password=SAMPLE_API_PASSWORD,
        account_id=42,
        product_id=7,
        card_range="6338 0000 0000 0000 - 6338 0099 9999 9999",
        card_length=19,
        sites=list(SAMPLE_SITES),
    )
    return replace(sheet, **overrides)
