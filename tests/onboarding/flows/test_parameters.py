"""Bad onboarding parameters fail the run before anything is created, naming the
field and the reason (Prefect validates them against the flow's signature)."""

from __future__ import annotations

import pytest
from prefect.exceptions import ParameterTypeError

from flows.onboarding import polaris_onboarding

GOOD = {
    "account_id": 7,
    "polaris": {"name": "Pat Polaris", "email": "pat@polaris.example", "mobile": "+447700900123"},
    "sites": [{"name": "The Crown", "address": "1 High St", "reference": "crown"}],
}


def test_good_parameters_pass() -> None:
    validated = polaris_onboarding.validate_parameters(GOOD)
    assert validated["polaris"].mobile == "+447700900123"
    assert validated["sites"][0].reference == "crown"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"account_id": 0}, "account_id", "greater than or equal to 1"),
        (
            {"polaris": {**GOOD["polaris"], "email": "pat-at-polaris"}},
            "polaris.email",
            "valid email",
        ),
        ({"polaris": {**GOOD["polaris"], "mobile": "07700 900123"}}, "polaris.mobile", "pattern"),
        (
            {"sites": [{"name": "The Crown", "address": "1 High St"}]},
            "sites.0.reference",
            "required",
        ),
        ({"product_id": -1}, "product_id", "greater than or equal to 1"),
    ],
)
def test_bad_parameters_name_the_field_and_why(
    change: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(ParameterTypeError) as failure:
        polaris_onboarding.validate_parameters({**GOOD, **change})
    message = str(failure.value)
    assert field in message and reason in message, message
