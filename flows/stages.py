"""The onboarding's stages, one Prefect task each, named so that the Prefect UI reads
like the seed's checklist.

Every stage first reads the onboarding record in the ledger and does nothing that
is recorded as done; every side effect is recorded right after it happens. Tasks
never cache or persist results (state lives in the ledger), and the two passwords
only ever travel between tasks as ``InMemorySecret``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from contract.merchants import SiteCreate
from contract.onboardings import OnboardingOut
from flows import failpoints
from flows.credentials_file import (
    CredentialSheet,
    SheetSite,
    build_workbook,
    new_file_password,
    pack_encrypted,
)
from flows.ledger import LedgerAdmin, LedgerRefused
from flows.messaging.email import build_polaris_email, build_polaris_new_sites_email, send_email
from flows.messaging.errors import DeliveryError
from flows.messaging.sms import polaris_password_text, send_text
from flows.secret import InMemorySecret
from flows.settings import get_settings
from flows.store_id_link import link_for_email
from flows.store_ids import problems_with
from flows.verification import CallResult, VerificationFailed, verify_store

# State lives in the ledger: no task caches or persists its result.
LEDGER_RETRIES = 2
LEDGER_RETRY_DELAY = 2
# Read once at import: Prefect fixes a task's retry policy when it is decorated.
DELIVERY_RETRIES = get_settings().delivery_retries
DELIVERY_RETRY_DELAY = get_settings().delivery_retry_delay_seconds


def unless_permanent(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a delivery unless the failure says a retry cannot help (e.g. SMTP 5xx,
    Twilio 4xx, or some recipients already have the email)."""
    try:
        state.result()
    except DeliveryError as error:
        return not error.permanent
    except Exception:
        return True
    return True


class StageFailed(Exception):
    """A stage cannot go on; the message says why, for the account manager."""


@dataclass(frozen=True)
class ApiUser:
    user_id: int
    username: str
    password: InMemorySecret


@dataclass(frozen=True)
class EncryptedFile:
    filename: str
    data: bytes
    password: InMemorySecret
    api_user_id: int


def sheet_sites(sites: list[dict[str, Any]]) -> list[SheetSite]:
    return [
        SheetSite(name=s["name"], address=s["address"], reference=s["reference"], site_id=s["id"])
        for s in sites
    ]


def _ledger() -> LedgerAdmin:
    return LedgerAdmin(get_settings())


@task(
    name="add sites",
    task_run_name="add sites for {merchant}",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def add_sites(
    onboarding: OnboardingOut, merchant: str, sites: list[SiteCreate]
) -> list[dict[str, Any]]:
    """Add the given sites (idempotent by reference) and fix the onboarding's scope:
    the sites added, or else every site of the account still without a store ID."""
    with _ledger() as ledger:
        added = [
            ledger.add_site(onboarding.account_id, s.name, s.address, s.reference)["id"]
            for s in sites
        ]
        account_sites = ledger.sites(onboarding.account_id)
        scope = set(onboarding.site_ids) | set(added)
        if not scope:
            scope = {s["id"] for s in account_sites if not s["store_id"]}
        if not scope:
            raise StageFailed(
                f"{merchant} has no sites without a Polaris store ID, and none were given to add."
            )
        ledger.record(onboarding.id, "sites_added", site_ids=sorted(scope))
    get_run_logger().info("%d site(s) in this onboarding: %s", len(scope), sorted(scope))
    failpoints.reached("after:add_sites")
    return [s for s in account_sites if s["id"] in scope]


@task(
    name="create API user",
    task_run_name="create API user for {merchant}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def create_api_user(onboarding: OnboardingOut, merchant: str) -> ApiUser:
    """Issue the Polaris API user (revoking an undelivered one) and check at once that
    the new credential is accepted by the till API."""
    settings = get_settings()
    with _ledger() as ledger:
        issued = ledger.issue_credential(onboarding.id)
    user = ApiUser(issued.api_user_id, issued.username, InMemorySecret(issued.password))
    logger = get_run_logger()
    if issued.revoked_api_user_id:
        logger.info("Revoked undelivered API user %s.", issued.revoked_api_user_id)
    _check_credential_accepted(settings.ledger_url, user)
    logger.info(
        "Created API user %s (id %s); the till API accepts it.", user.username, user.user_id
    )
    failpoints.reached("after:create_api_user")
    return user


def _check_credential_accepted(ledger_url: str, user: ApiUser) -> None:
    # A store ID no site has: an accepted credential gets 403 unknown_store (no
    # voucher is touched and nothing counts towards the throttle); a refused one 401.
    probe_store = f"onboarding-check-{secrets.token_hex(4)}"
    with httpx.Client(
        base_url=ledger_url, auth=(user.username, user.password.reveal()), timeout=30
    ) as till:
        response = till.get("/v1/vouchers/6301190000000000000", params={"store_id": probe_store})
    if response.status_code != 403:
        raise StageFailed(
            f"The new API user {user.username} is not accepted by the till API "
            f"(HTTP {response.status_code})."
        )


@task(
    name="build encrypted file",
    task_run_name="build encrypted file for {merchant}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def build_encrypted_file(
    onboarding: OnboardingOut,
    merchant: str,
    account: dict[str, Any],
    sites: list[dict[str, Any]],
    user: ApiUser,
) -> EncryptedFile:
    sheet = CredentialSheet(
        api_endpoint=get_settings().till_endpoint,
        username=user.username,
        password=user.password.reveal(),
        account_id=onboarding.account_id,
        product_id=onboarding.product_id or 0,
        card_range=account["card_range"],
        sites=sheet_sites(sites),
    )
    password = new_file_password()
    stem = f"polaris-onboarding-{onboarding.account_id}"
    data = pack_encrypted(f"{stem}.xlsx", build_workbook(sheet), password)
    failpoints.reached("after:build_encrypted_file")
    return EncryptedFile(f"{stem}.zip", data, InMemorySecret(password), user.user_id)


@task(
    name="email Polaris",
    retry_condition_fn=unless_permanent,
    task_run_name="email Polaris ({onboarding.polaris_email}) for {merchant}",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_polaris(
    onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]], file: EncryptedFile
) -> str:
    with _ledger() as ledger:
        link = link_for_email(ledger, onboarding)  # the page where Polaris enters store IDs
    message = build_polaris_email(
        to=onboarding.polaris_email,
        contact_name=onboarding.polaris_name,
        merchant_name=merchant,
        sites=sheet_sites(sites),
        attachment_filename=file.filename,
        attachment=file.data,
        mobile=onboarding.polaris_mobile,
        settings=get_settings(),
        store_id_link=link,
    )
    message_id = send_email(message, get_settings())
    with _ledger() as ledger:
        ledger.record(
            onboarding.id, "email_sent", api_user_id=file.api_user_id, message_id=message_id
        )
        ledger.store_id_link_emailed(onboarding.id, link.flow_run_id, message_id)
    get_run_logger().info(
        "Emailed the encrypted file to %s (%s).", onboarding.polaris_email, message_id
    )
    failpoints.reached("after:email_polaris")
    return message_id


@task(
    name="email Polaris about new sites",
    retry_condition_fn=unless_permanent,
    task_run_name="email Polaris ({onboarding.polaris_email}) about new sites of {merchant}",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def email_polaris_new_sites(
    onboarding: OnboardingOut, merchant: str, sites: list[dict[str, Any]]
) -> str:
    """The account is live: the API user Polaris has covers the new sites, so only
    their store IDs are asked for (no file, no text)."""
    assert onboarding.api_user_id is not None  # the ledger gave it the live credential
    with _ledger() as ledger:
        link = link_for_email(ledger, onboarding)
        user = ledger.integration_user(onboarding.api_user_id)
    message = build_polaris_new_sites_email(
        to=onboarding.polaris_email,
        contact_name=onboarding.polaris_name,
        merchant_name=merchant,
        sites=sheet_sites(sites),
        api_username=user["username"],
        store_id_link=link,
        settings=get_settings(),
    )
    message_id = send_email(message, get_settings())
    with _ledger() as ledger:
        ledger.record(
            onboarding.id, "email_sent", api_user_id=onboarding.api_user_id, message_id=message_id
        )
        ledger.store_id_link_emailed(onboarding.id, link.flow_run_id, message_id)
    get_run_logger().info(
        "Asked %s for the store IDs of %d new site(s) (%s).",
        onboarding.polaris_email,
        len(sites),
        message_id,
    )
    return message_id


@task(
    name="text password",
    retry_condition_fn=unless_permanent,
    task_run_name="text password to {onboarding.polaris_mobile}",
    retries=DELIVERY_RETRIES,
    retry_delay_seconds=DELIVERY_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def text_password(onboarding: OnboardingOut, merchant: str, file: EncryptedFile) -> str:
    body = polaris_password_text(merchant, file.password.reveal())
    receipt = send_text(onboarding.polaris_mobile, body, get_settings())
    with _ledger() as ledger:
        ledger.record(onboarding.id, "text_sent", api_user_id=file.api_user_id)
    get_run_logger().info("Texted the file's password to %s.", onboarding.polaris_mobile)
    failpoints.reached("after:text_password")
    return receipt


@task(
    name="check store IDs",
    task_run_name="check store IDs for {merchant} (answer {attempt})",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def check_store_ids(
    onboarding: OnboardingOut,
    merchant: str,
    attempt: int,
    store_ids: dict[int, str],
    sites: list[dict[str, Any]],
) -> list[str]:
    with _ledger() as ledger:
        account_sites = ledger.sites(onboarding.account_id)
    problems = problems_with(store_ids, sites, account_sites)
    if problems:
        get_run_logger().warning("Store IDs not accepted: %s", "; ".join(problems))
    return problems


@task(
    name="save store IDs",
    task_run_name="save store IDs for {merchant}",
    retries=LEDGER_RETRIES,
    retry_delay_seconds=LEDGER_RETRY_DELAY,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def save_store_ids(onboarding: OnboardingOut, merchant: str, store_ids: dict[int, str]) -> None:
    with _ledger() as ledger:
        try:
            ledger.set_store_ids(onboarding.account_id, store_ids)
        except LedgerRefused as refusal:
            raise StageFailed(f"The ledger refused the store IDs: {refusal.detail}") from None
        ledger.record(onboarding.id, "store_ids_saved")
    failpoints.reached("after:save_store_ids")


@task(
    name="verify integration",
    task_run_name="verify integration for {merchant}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
def verify_integration(
    onboarding: OnboardingOut, merchant: str, account: dict[str, Any], run_tag: str
) -> list[CallResult]:
    """For each store: sell, check, redeem, reverse, check again and cancel a test
    voucher, as a till, with a verification credential made and revoked here (the
    Polaris password exists only in the file Polaris holds)."""
    settings = get_settings()
    results: list[CallResult] = []
    with _ledger() as ledger:
        sites = [s for s in ledger.sites(onboarding.account_id) if s["id"] in onboarding.site_ids]
        user = ledger.create_integration_user(
            onboarding.account_id, label=f"verification (onboarding {onboarding.id})"
        )
        try:
            with httpx.Client(
                base_url=settings.ledger_url, auth=(user["username"], user["password"]), timeout=30
            ) as till:
                for site in sites:
                    verify_store(
                        till,
                        site=site["name"],
                        store_id=site["store_id"],
                        product_id=onboarding.product_id or 0,
                        card_range=account["card_range"],
                        reference_prefix=f"verify-{onboarding.id}-{run_tag}-{site['id']}",
                        results=results,
                    )
        except VerificationFailed:
            _publish_results(onboarding, merchant, results)
            raise
        finally:
            ledger.revoke_integration_user(user["id"])
        _publish_results(onboarding, merchant, results)
        ledger.record(onboarding.id, "verified")
    return results


def _publish_results(onboarding: OnboardingOut, merchant: str, results: list[CallResult]) -> None:
    create_table_artifact(
        key=f"onboarding-{onboarding.id}-verification",
        table=[
            {"site": r.site, "call": r.call, "outcome": r.outcome, "time (ms)": r.millis}
            for r in results
        ],
        description=f"Till verification for {merchant}",
    )
