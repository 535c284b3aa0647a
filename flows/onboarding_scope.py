"""Whether an onboarding run has anything to do, decided before it touches anything.

A finished onboarding stays finished: the UI's Retry of a completed run, or the same
parameters started again, must not issue a credential, send a file or text, or wait
for store IDs again. Only new sites (or sites still without a store ID) of a live
account make a new onboarding, and that one goes under the credential Polaris has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prefect.exceptions import FailedRun

from contract.merchants import SiteCreate
from contract.onboardings import OnboardingOut
from flows.ledger import LedgerAdmin, LedgerRefused, with_retries


@dataclass(frozen=True)
class AlreadyOnboarded:
    onboarding: OnboardingOut  # the verified one
    message: str


def already_onboarded(
    ledger: LedgerAdmin, account_id: int, sites: list[SiteCreate], run_id: str
) -> AlreadyOnboarded | None:
    """The verified onboarding that leaves this run nothing to do, if there is one."""
    records = with_retries(lambda: ledger.onboardings(account_id=account_id, kind="onboarding"))
    if any(o.verified_at is None for o in records):
        return None  # an open one: this run continues it
    verified = [o for o in records if o.verified_at is not None]
    if not verified:
        return None
    done = next((o for o in verified if o.flow_run_id == run_id), None)  # a Retry
    if done is None:
        account_sites = with_retries(lambda: ledger.sites(account_id))
        known = {s["reference"] for s in account_sites}
        if any(s.reference not in known for s in sites):
            return None  # a new pub: onboard it
        if any(not s["store_id"] for s in account_sites):
            return None  # a site still without its store ID
        done = verified[-1]
    assert done.verified_at is not None
    return AlreadyOnboarded(
        done, f"Already onboarded on {done.verified_at:%Y-%m-%d}; nothing to do."
    )


# The ledger's refusals that mean a parameter is wrong, and the parameter each names.
_PARAMETER_OF_CODE = {
    "account_not_found": "account_id",
    "product_not_found": "product_id",
}


PARAMETER_REFUSED = "Parameter "


def refusal_of_parameters(refusal: LedgerRefused) -> str | None:
    """One plain sentence naming the parameter, if the refusal is about one."""
    field = _PARAMETER_OF_CODE.get(refusal.code)
    if field is None:
        return None
    return f"{PARAMETER_REFUSED}{field}: {refusal.detail}"


class QuietParameterFailures(logging.Filter):
    """A run the flow failed on purpose, for a wrong parameter, has already logged its
    one sentence; Prefect's engine would log the same failure again with a traceback of
    its own internals (it re-raises the Failed state it was handed), which tells the
    account manager nothing more. Those records are dropped; every other failure keeps
    its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, FailedRun) and str(error).startswith(PARAMETER_REFUSED))


def quiet_parameter_failures() -> None:
    """Install the filter on the flow-run logger (once per process)."""
    run_logger = logging.getLogger("prefect.flow_runs")
    if not any(isinstance(f, QuietParameterFailures) for f in run_logger.filters):
        run_logger.addFilter(QuietParameterFailures())
