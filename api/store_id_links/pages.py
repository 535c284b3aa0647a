"""The store-ID page's HTML: the one jinja2 Environment of the ledger (autoescaped),
the form, the confirmation, and a plain page for every way a link can stop working.

Every page goes out with headers that keep the link's token where it is: no caching,
no referrer to anywhere else, no framing, and a policy that allows no script at all
and only the page's own stylesheet (by its hash).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from api.store_id_links.service import PAGE_PATH, LinkClosed, OpenLink
from contract.store_ids import MAX_STORE_ID_LENGTH, StoreIdProblem, field_name

TEMPLATES = Path(__file__).resolve().parent / "templates"
_CSS = (TEMPLATES / "store_ids.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

HEADERS = {
    "Cache-Control": "no-store",
    # Same-origin only: the form's own POST says where it came from (its Origin is
    # checked), and no other site ever sees the page's address, token and all.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown time"
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = when
environment.globals["field_name"] = field_name
environment.globals["css"] = Markup(_CSS)


def _page(
    template: str, status: int, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    context.setdefault("merchant", None)
    html = environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})


def form(
    link: OpenLink,
    token: str,
    *,
    values: dict[int, str] | None = None,
    problems: list[StoreIdProblem] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form, with what was typed and each problem beside its field(s)."""
    errors: dict[int, list[str]] = {}
    summary = []
    for problem in problems or []:
        for site_id in problem.site_ids:
            errors.setdefault(site_id, []).append(problem.message)
        summary.append({"field": field_name(problem.site_ids[0]), "message": problem.message})
    return _page(
        "store_ids_form.html.j2",
        status,
        merchant=link.merchant,
        sites=link.sites,
        values=values or {},
        errors=errors,
        summary=summary,
        notice=notice,
        token=token,
        action=f"{PAGE_PATH}/{token}",
        expires_at=link.expires_at,
        max_length=MAX_STORE_ID_LENGTH,
    )


def received(link: OpenLink, answer: dict[int, str], at: datetime) -> HTMLResponse:
    return _page(
        "store_ids_received.html.j2",
        200,
        merchant=link.merchant,
        sites=link.sites,
        answer=answer,
        at=at,
    )


def closed(refusal: LinkClosed) -> HTMLResponse:
    status, title, paragraphs = _explain(refusal)
    headers = {}
    if refusal.kind == "rate_limited":
        headers["Retry-After"] = str(refusal.facts["retry_after"])
    return _page(
        "store_ids_closed.html.j2",
        status,
        headers,
        merchant=refusal.merchant,
        title=title,
        paragraphs=paragraphs,
    )


def unavailable() -> HTMLResponse:
    return _page(
        "store_ids_closed.html.j2",
        503,
        {"Retry-After": "60"},
        title="This page is not available just now",
        paragraphs=["Please try again in a few minutes. Nothing you typed was sent."],
    )


REPLY = "Please reply to our email and we will send you a new link."


def _explain(refusal: LinkClosed) -> tuple[int, str, list[str]]:
    """Status, title and what to do, for each way the form cannot be offered."""
    merchant = refusal.merchant or "this merchant"
    facts = refusal.facts
    newer = facts.get("newer_emailed_at")
    replaced = (
        (
            "This link has been replaced",
            f"We sent you a newer email about {merchant} on {when(newer)}, with a new link. "
            "Please use the link in that email: this one no longer works.",
        )
        if newer is not None
        else (
            "This link is no longer in use",
            f"The onboarding of {merchant} was restarted, so this link no longer works. "
            "We will email you a new link.",
        )
    )
    received_how = " through this page" if facts.get("used_at") else ""
    explanations: dict[str, tuple[int, str, list[str]]] = {
        "invalid": (
            404,
            "This link does not work",
            [
                "The link is incomplete, or it was changed on the way. Please open it again "
                "from our email, or copy the whole address into your browser.",
                "If it still does not work, please reply to our email.",
            ],
        ),
        "rate_limited": (
            429,
            "Too many attempts",
            [
                "This link has been used many times in a short while. Please wait "
                f"{facts.get('retry_after')} seconds, then try again.",
            ],
        ),
        "replaced": (410, replaced[0], [replaced[1]]),
        "received": (
            410,
            "Store IDs already received",
            [
                f"We received the store IDs for {merchant}{received_how} on "
                f"{when(facts.get('at'))}. There is nothing more to do here: this link no "
                "longer works.",
            ],
        ),
        "received_here": (
            410,
            "Store IDs already received",
            [
                f"We received store IDs for {merchant} through this page on "
                f"{when(facts.get('used_at'))}, and are checking them now. There is nothing "
                "more to do here. If something is wrong with them, we will email you.",
            ],
        ),
        "answered_elsewhere": (
            409,
            "Store IDs already given",
            [
                f"The store IDs for {merchant} had already reached us (for example from our "
                "onboarding team, or from an earlier send of this form), so this form was "
                "not used.",
                "There is nothing more to do here. If something is wrong with them, we will "
                "email you.",
            ],
        ),
        "not_ready": (
            409,
            "Not ready yet",
            [
                f"We are still sending you the details of {merchant}'s integration. Please "
                "try again in a few minutes.",
            ],
        ),
        "expired": (
            410,
            "This link has expired",
            [f"It worked until {when(facts.get('expires_at'))}. {REPLY}"],
        ),
        "timed_out": (
            410,
            "This link has expired",
            [
                f"The onboarding of {merchant} waited too long for store IDs and has "
                f"stopped, so this link no longer works. {REPLY}",
            ],
        ),
        "closed": (
            410,
            "This onboarding is no longer waiting for store IDs",
            [
                f"The onboarding of {merchant} has stopped ({facts.get('status', 'ended')}), "
                "so this link no longer works. If it is started again, we will email you a "
                "new link.",
            ],
        ),
        "refused": (
            409,
            "These store IDs could not be used",
            [
                f"The onboarding of {merchant} is no longer asking for the store IDs of these "
                "sites, so nothing was sent. Please reply to our email.",
            ],
        ),
        "too_large": (
            413,
            "This form is too large",
            ["Please send the form from the page the link in our email opens."],
        ),
        "forbidden": (
            403,
            "This form could not be accepted",
            ["Please open the link in our email and send the form from the page it opens."],
        ),
    }
    return explanations.get(refusal.kind, explanations["forbidden"])
