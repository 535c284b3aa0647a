"""`onboarding start`: the flow's parameters from command-line options, checked with
the same pydantic types the flow declares, then a run of the deployment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.utilities.urls import url_for
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from flows.cli.errors import CliError
from flows.cli.prefect_api import start_deployment
from flows.deployments import ONBOARDING_DEPLOYMENT
from flows.ledger import LedgerAdmin, LedgerRefused
from flows.parameters import AccountId, PolarisContact, ProductId, SitesToAdd
from flows.settings import get_settings

SITE_PARTS = ("name", "address", "reference")
SITE_FORMAT = "NAME|ADDRESS|REFERENCE"
# What a refused pattern means, for the options whose pattern is not self-explanatory.
PATTERN_HINTS = {"--polaris-mobile": "expected a mobile number in E.164 form, e.g. +447700900123"}
# The flow's own parameter types, and the option each comes from.
PARAMETERS: dict[str, tuple[str, TypeAdapter[Any]]] = {
    "account_id": ("--account", TypeAdapter(AccountId)),
    "polaris": ("--polaris", TypeAdapter(PolarisContact)),
    "sites": ("--site", TypeAdapter(SitesToAdd)),
    "product_id": ("--product", TypeAdapter(ProductId)),
}


@dataclass(frozen=True)
class StartRequest:
    """What the account manager typed, before any checking."""

    account_id: int
    polaris_name: str
    polaris_email: str
    polaris_mobile: str
    sites: list[str]
    product_id: int | None


@dataclass(frozen=True)
class Started:
    id: UUID
    name: str
    url: str | None
    merchant: str
    parameters: dict[str, Any]


def flow_parameters(request: StartRequest) -> dict[str, Any]:
    """The run's parameters, or a CliError naming each option that is wrong."""
    problems: list[str] = []
    sites: list[dict[str, str]] = []
    site_numbers: list[int] = []  # which --site each parsed site came from
    for number, text in enumerate(request.sites, start=1):
        parts = [part.strip() for part in text.split("|")]
        if len(parts) != len(SITE_PARTS):
            problems.append(f"--site {number} ({text!r}): expected {SITE_FORMAT}.")
        else:
            sites.append(dict(zip(SITE_PARTS, parts, strict=True)))
            site_numbers.append(number)
    contact = {
        "name": request.polaris_name,
        "email": request.polaris_email,
        "mobile": request.polaris_mobile,
    }
    given: dict[str, Any] = {
        "account_id": request.account_id,
        "polaris": contact,
        "sites": sites,
        "product_id": request.product_id,
    }
    checked: dict[str, Any] = {}
    for name, (option, adapter) in PARAMETERS.items():
        try:
            checked[name] = adapter.dump_python(adapter.validate_python(given[name]), mode="json")
        except ValidationError as error:
            problems += [_problem(option, e, site_numbers) for e in error.errors()]
    if problems:
        raise CliError("The onboarding was not started:", problems)
    if not checked["sites"]:
        del checked["sites"]
    if checked["product_id"] is None:
        del checked["product_id"]
    return checked


def _problem(option: str, error: ErrorDetails, site_numbers: list[int]) -> str:
    loc = [str(part) for part in error["loc"]]
    if option == "--polaris" and loc:
        option = f"--polaris-{loc[0]}"
    elif option == "--site" and loc:
        option = f"--site {site_numbers[int(loc[0])]}" + (f" ({loc[1]})" if len(loc) > 1 else "")
    message = str(error["msg"]).rstrip(".")
    if error["type"] == "string_pattern_mismatch":
        message = PATTERN_HINTS.get(option, "contains characters that are not allowed")
    return f"{option}: {message}."


def start_onboarding(request: StartRequest) -> Started:
    parameters = flow_parameters(request)
    merchant = merchant_name(parameters["account_id"])
    run = start_deployment(ONBOARDING_DEPLOYMENT, parameters)
    return Started(
        id=run.id,
        name=run.name,
        url=url_for("flow-run", obj_id=run.id),
        merchant=merchant,
        parameters=parameters,
    )


def merchant_name(account_id: int) -> str:
    """The account's name; also the check that the ledger knows the account, so a
    typo fails here rather than as a failed run."""
    settings = get_settings()
    with LedgerAdmin(settings) as ledger:
        try:
            return str(ledger.account(account_id)["name"])
        except LedgerRefused as refusal:
            if refusal.status == 404:
                raise CliError(
                    f"The ledger at {settings.ledger_url} has no account {account_id}."
                ) from None
            raise
