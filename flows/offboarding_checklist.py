"""The offboarding's checklist as a Markdown artifact, ticked as its stages complete."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from contract.offboardings import OffboardingOut

NOTHING_TO_DO = "already offboarded; nothing to do"


def artifact_key(account_id: int) -> str:
    return f"polaris-offboarding-{account_id}"


def render(
    merchant: str,
    offboarding: OffboardingOut | None,
    *,
    clear_store_ids: bool,
    status: str,
    revoked: bool = False,
    store_ids_settled: bool = False,
) -> str:
    def box(done: bool) -> str:
        return "x" if done else " "

    usernames = [c.username for c in offboarding.revoked_credentials] if offboarding else []
    cleared = offboarding.cleared_store_ids if offboarding else []
    keeping = not (offboarding.clear_store_ids if offboarding else clear_store_ids)
    revoke_line = "Revoke Polaris's API credentials"
    if revoked:
        revoke_line += f" ({', '.join(usernames) or 'none was active'})"
    if keeping:
        store_line = "Keep the sites' store IDs (as asked)"
    else:
        store_line = "Clear the sites' store IDs"
        if store_ids_settled:
            listed = ", ".join(f"{c.site_name}: {c.store_id}" for c in cleared)
            store_line += f" ({listed or 'none was set'})"
    polaris = offboarding is not None and offboarding.polaris_emailed_at is not None
    merchant_told = offboarding is not None and offboarding.merchant_emailed_at is not None
    lines = [
        f"# Polaris offboarding: {merchant}",
        "",
        f"- [{box(revoked)}] {revoke_line}",
        f"- [{box(store_ids_settled)}] {store_line}",
        f"- [{box(polaris)}] Email Polaris the confirmation",
        f"- [{box(merchant_told)}] Email the merchant the confirmation",
        "",
        f"Status: **{status}**",
    ]
    return "\n".join(lines)


def publish(account_id: int, merchant: str, markdown: str) -> None:
    create_markdown_artifact(
        key=artifact_key(account_id),
        markdown=markdown,
        description=f"Offboarding checklist for {merchant}",
    )
