"""The flows' view of the ledger: its admin API and till API, over HTTP only.

LedgerError
├── LedgerUnavailable     the ledger could not be reached (connection, timeout)
└── LedgerRefused         the ledger answered with a problem (status, code, detail)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from contract.credentials import CredentialStoreUseOut
from contract.offboardings import EmailRecipient, OffboardingOut, OffboardResult
from contract.onboardings import (
    IssuedOnboardingCredential,
    OnboardingEndingRecorded,
    OnboardingOut,
)
from contract.store_id_links import IssuedStoreIdLink, StoreIdLinkOut
from flows.settings import OnboardingSettings


class LedgerError(Exception):
    pass


class LedgerUnavailable(LedgerError):
    pass


class LedgerRefused(LedgerError):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"the ledger answered {status} {code}: {detail}")
        self.status, self.code, self.detail = status, code, detail


T = TypeVar("T")

# For the calls a flow makes outside its tasks (which retry by Prefect's policy).
CALL_ATTEMPTS = 3
CALL_RETRY_DELAY = 1.0


def is_transient(error: BaseException) -> bool:
    """A failure that another try may not meet: the ledger unreachable, or answering
    5xx. A 4xx is the ledger refusing: asking again gets the same answer."""
    if isinstance(error, LedgerUnavailable):
        return True
    return isinstance(error, LedgerRefused) and error.status >= 500


def with_retries(
    call: Callable[[], T], *, attempts: int = CALL_ATTEMPTS, delay: float = CALL_RETRY_DELAY
) -> T:
    """``call()``, tried again (after ``delay``, then twice that, ...) while it fails
    transiently, ``attempts`` times in all. The calls given must be safe to repeat:
    the admin API's reads, its onboarding start (it returns the open one) and its
    claim (a claim by the same run again succeeds)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except LedgerError as error:
            if attempt == attempts or not is_transient(error):
                raise
        time.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


class LedgerAdmin:
    """Admin API calls the onboarding needs. Responses never get logged: one of them
    carries a new API password."""

    def __init__(self, settings: OnboardingSettings, timeout: float = 30.0) -> None:
        self.base_url = settings.ledger_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {settings.admin_token()}"},
            timeout=timeout,
        )

    def __enter__(self) -> LedgerAdmin:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise LedgerUnavailable(
                f"the ledger at {self.base_url} cannot be reached ({type(error).__name__}: {error})"
            ) from None
        if response.status_code >= 400:
            raise _refusal(response)
        return response.json()

    def account(self, account_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/admin/accounts/{account_id}"))

    def sites(self, account_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/admin/accounts/{account_id}/sites"))

    def add_site(self, account_id: int, name: str, address: str, reference: str) -> dict[str, Any]:
        body = {"name": name, "address": address, "reference": reference}
        return dict(self._call("POST", f"/admin/accounts/{account_id}/sites", json=body))

    def set_store_ids(self, account_id: int, store_ids: dict[int, str]) -> list[dict[str, Any]]:
        body = {"assignments": [{"site_id": s, "store_id": t} for s, t in store_ids.items()]}
        return list(self._call("PUT", f"/admin/accounts/{account_id}/store-ids", json=body))

    def create_integration_user(self, account_id: int, label: str) -> dict[str, Any]:
        path = f"/admin/accounts/{account_id}/integration-users"
        return dict(self._call("POST", path, json={"label": label}))

    def revoke_integration_user(self, user_id: int) -> dict[str, Any]:
        return dict(self._call("POST", f"/admin/integration-users/{user_id}/revoke"))

    def integration_user(self, user_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/admin/integration-users/{user_id}"))

    def integration_users(self, account_id: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/admin/accounts/{account_id}/integration-users"))

    def store_uses(self, user_id: int) -> list[dict[str, Any]]:
        """The stores the user's till calls have come from, oldest first use first:
        ``{store_id, site_id, site_name, first_used_at}`` (contract.credentials
        CredentialStoreUseOut). A ledger process notes a store's first call with a
        credential just after answering it, so a call answered a moment ago may not
        be here yet."""
        found = self._call("GET", f"/admin/integration-users/{user_id}/store-uses")
        return [CredentialStoreUseOut.model_validate(u).model_dump(mode="json") for u in found]

    def start_onboarding(
        self,
        account_id: int,
        polaris: dict[str, str],
        product_id: int | None,
        kind: str = "onboarding",
    ) -> OnboardingOut:
        body = {
            "account_id": account_id,
            "polaris": polaris,
            "product_id": product_id,
            "kind": kind,
        }
        return OnboardingOut.model_validate(self._call("POST", "/admin/onboardings", json=body))

    def onboarding(self, onboarding_id: int) -> OnboardingOut:
        return OnboardingOut.model_validate(
            self._call("GET", f"/admin/onboardings/{onboarding_id}")
        )

    def onboardings(
        self,
        status: str | None = None,
        account_id: int | None = None,
        kind: str | None = None,
        flow_run_id: str | None = None,
    ) -> list[OnboardingOut]:
        given = {
            "status": status,
            "account_id": account_id,
            "kind": kind,
            "flow_run_id": flow_run_id,
        }
        params = {name: value for name, value in given.items() if value} or None
        found = self._call("GET", "/admin/onboardings", params=params)
        return [OnboardingOut.model_validate(o) for o in found]

    def claim(self, onboarding_id: int, flow_run_id: str, expected: str | None) -> OnboardingOut:
        body = {"flow_run_id": flow_run_id, "expected_flow_run_id": expected}
        path = f"/admin/onboardings/{onboarding_id}/claim"
        return OnboardingOut.model_validate(self._call("POST", path, json=body))

    def issue_credential(self, onboarding_id: int) -> IssuedOnboardingCredential:
        path = f"/admin/onboardings/{onboarding_id}/credential"
        return IssuedOnboardingCredential.model_validate(self._call("POST", path))

    def record_ending(
        self, onboarding_id: int, flow_run_id: str, ended_as: str, reason: str
    ) -> OnboardingEndingRecorded:
        """Record how ``flow_run_id`` ended; safe to repeat (the first record stands)."""
        body = {"flow_run_id": flow_run_id, "ended_as": ended_as, "reason": reason}
        path = f"/admin/onboardings/{onboarding_id}/ending"
        return OnboardingEndingRecorded.model_validate(self._call("POST", path, json=body))

    def record(self, onboarding_id: int, stage: str, **details: Any) -> OnboardingOut:
        path = f"/admin/onboardings/{onboarding_id}/stages/{stage}"
        return OnboardingOut.model_validate(self._call("POST", path, json=details))

    # Offboardings (contract.offboardings).

    def offboard(
        self, account_id: int, *, clear_store_ids: bool, flow_run_id: str | None
    ) -> OffboardResult:
        """Revoke the account's Polaris credentials (and clear its store IDs, if asked)
        in one transaction; safe to repeat (an unfinished offboarding is continued)."""
        body = {"clear_store_ids": clear_store_ids, "flow_run_id": flow_run_id}
        path = f"/admin/accounts/{account_id}/polaris/offboard"
        return OffboardResult.model_validate(self._call("POST", path, json=body))

    def offboarding_emailed(
        self, offboarding_id: int, recipient: EmailRecipient, message_id: str | None
    ) -> OffboardingOut:
        path = f"/admin/offboardings/{offboarding_id}/emails/{recipient}"
        body = {"message_id": message_id}
        return OffboardingOut.model_validate(self._call("POST", path, json=body))

    # Store-ID links (contract.store_id_links). The link's URL opens the store-ID page:
    # it goes into the email to Polaris and nowhere else (no log, no task result).

    def issue_store_id_link(
        self, onboarding_id: int, flow_run_id: str, valid_for_seconds: int
    ) -> IssuedStoreIdLink:
        path = f"/admin/onboardings/{onboarding_id}/store-id-link"
        body = {"flow_run_id": flow_run_id, "valid_for_seconds": valid_for_seconds}
        return IssuedStoreIdLink.model_validate(self._call("POST", path, json=body))

    def store_id_link(self, onboarding_id: int) -> IssuedStoreIdLink:
        """The link of the onboarding's current flow run (made by that run, never here)."""
        path = f"/admin/onboardings/{onboarding_id}/store-id-link"
        return IssuedStoreIdLink.model_validate(self._call("GET", path))

    def store_id_link_emailed(
        self, onboarding_id: int, flow_run_id: str, message_id: str | None
    ) -> StoreIdLinkOut:
        path = f"/admin/onboardings/{onboarding_id}/store-id-link/emailed"
        body = {"flow_run_id": flow_run_id, "message_id": message_id}
        return StoreIdLinkOut.model_validate(self._call("POST", path, json=body))

    def store_id_links(
        self, onboarding_id: int | None = None, flow_run_id: str | None = None
    ) -> list[StoreIdLinkOut]:
        params = {"onboarding_id": onboarding_id, "flow_run_id": flow_run_id}
        found = self._call(
            "GET", "/admin/store-id-links", params={k: v for k, v in params.items() if v}
        )
        return [StoreIdLinkOut.model_validate(link) for link in found]


def _refusal(response: httpx.Response) -> LedgerRefused:
    try:
        body = response.json()
        code, detail = str(body.get("code", "")), str(body.get("detail", ""))
    except ValueError:
        code, detail = "", response.text[:200]
    return LedgerRefused(response.status_code, code or "error", detail)
