"""The store-ID form as it comes back from the browser: a URL-encoded body, read only
after the link checked out, and never more of it than a form of this size can need.

CSRF: the page sets no cookie and takes no ambient credential; what lets a POST in is
the link's token, which only its holder knows. The form repeats it in a hidden field
(a cross-site form cannot know it), and a browser that names the request's origin
must name this ledger's.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import ClientDisconnect, Request

from api.store_id_links.service import LinkClosed, PageSite
from contract.store_ids import MAX_STORE_ID_LENGTH, field_name

LINK_FIELD = "link"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Per site: its field's name, up to 64 characters typed (each up to 9 bytes once
# percent-encoded: a 3-byte character as %XX%XX%XX), and separators.
_BYTES_PER_SITE = 32 + MAX_STORE_ID_LENGTH * 9
_BYTES_BESIDES = 1024


@dataclass(frozen=True)
class SubmittedForm:
    values: dict[int, str]  # by site ID, as typed (for showing them again)

    def answer(self) -> dict[int, str]:
        """What is checked and sent: each value trimmed, as the flow trims it."""
        return {site_id: value.strip() for site_id, value in self.values.items()}


def body_limit(sites: list[PageSite]) -> int:
    return _BYTES_BESIDES + _BYTES_PER_SITE * len(sites)


async def read_form(
    request: Request, token: str, sites: list[PageSite], public_url: str
) -> SubmittedForm:
    """The submitted form, or LinkClosed("forbidden" | "too_large")."""
    if not _same_origin(request, public_url):
        raise LinkClosed("forbidden")
    limit = body_limit(sites)
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise LinkClosed("too_large")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise LinkClosed("too_large")
    except ClientDisconnect:
        raise LinkClosed("forbidden") from None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise LinkClosed("forbidden")
    try:
        fields = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=len(sites) + 8,
        )
    except (UnicodeDecodeError, ValueError):
        raise LinkClosed("forbidden") from None
    given: dict[str, str] = {}
    for name, value in fields:
        given.setdefault(name, value)  # a repeated field: the first counts
    if not hmac.compare_digest(given.get(LINK_FIELD, "").encode(), token.encode()):
        raise LinkClosed("forbidden")
    # Each site's field as typed, cut to what could be shown (the checks say if too long).
    return SubmittedForm(
        {
            site.id: given.get(field_name(site.id), "").replace("\x00", "")[
                : MAX_STORE_ID_LENGTH * 4
            ]
            for site in sites
        }
    )


def _same_origin(request: Request, public_url: str) -> bool:
    """A browser names the page a form came from in Origin (or, failing that, Referer);
    when it does, that must be this ledger, as configured or as the request reached it."""
    named = request.headers.get("origin") or request.headers.get("referer")
    if not named:
        return True  # not a browser that tells: the token alone decides
    if named == "null":
        return False  # an opaque origin: a sandboxed frame, a data: page...
    netloc = urlsplit(named).netloc.lower()
    ours = {urlsplit(public_url).netloc.lower(), request.headers.get("host", "").lower()}
    return netloc in ours - {""}
