"""Text messages: over Twilio when configured, else to the outbox.

The official twilio client builds every request, even in tests; only where the
request goes changes (``settings.twilio_api_base_url``, for a local stand-in).
"""

from __future__ import annotations

from typing import Any

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from flows.messaging.errors import TextDeliveryError
from flows.messaging.outbox import Outbox
from flows.settings import OnboardingSettings
from flows.templating import render

TWILIO_API_URL = "https://api.twilio.com"
# The twilio client waits forever by default; a hung request would pin a worker.
TWILIO_TIMEOUT_SECONDS = 30.0


def polaris_password_text(merchant_name: str, password: str) -> str:
    """The text message that carries the file password, and nothing else secret."""
    return render("polaris_password.txt.j2", merchant_name=merchant_name, password=password).strip()


def send_text(to: str, body: str, settings: OnboardingSettings) -> str:
    """Send a text message; return Twilio's message SID (or the outbox file's name).

    Raises TextDeliveryError with Twilio's status, code and message, never the body.
    """
    if not settings.twilio_configured:
        return Outbox(settings.outbox_dir).write_text(to, body).name

    recipient = _masked(to)
    try:
        message = twilio_client(settings).messages.create(
            to=to, from_=settings.twilio_from_number, body=body
        )
    except TwilioRestException as exc:
        # from None: the original carries the request, whose form data is the body.
        raise TextDeliveryError(
            f"Twilio refused the text message to {recipient}: "
            f"HTTP {exc.status}, code {exc.code}: {exc.msg}",
            permanent=_permanent(exc.status),
            status=exc.status,
            twilio_code=exc.code,
        ) from None
    except TwilioException as exc:
        # Newer RFC 9457 errors (TwilioServiceException) and client-side errors.
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", None)
        detail = getattr(exc, "detail", None) or getattr(exc, "title", None) or type(exc).__name__
        raise TextDeliveryError(
            f"Twilio refused the text message to {recipient}: HTTP {status}, code {code}: {detail}",
            permanent=status is not None and _permanent(status),
            status=status,
            twilio_code=code,
        ) from None
    except RequestException as exc:
        raise TextDeliveryError(
            f"could not reach Twilio to text {recipient}: {type(exc).__name__}"
        ) from None
    return str(message.sid)


def twilio_client(settings: OnboardingSettings) -> Client:
    assert settings.twilio_auth_token is not None
    http_client: TwilioHttpClient
    if settings.twilio_api_base_url:
        http_client = RedirectingHttpClient(
            settings.twilio_api_base_url, timeout=TWILIO_TIMEOUT_SECONDS
        )
    else:
        http_client = TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=http_client,
    )


class RedirectingHttpClient(TwilioHttpClient):
    """Sends what the client addresses to https://api.twilio.com to ``base_url`` instead.

    ``http_client`` is the twilio client's documented hook for its transport; the
    domain objects build absolute ``https://api.twilio.com/...`` URLs, so rewriting the
    prefix here redirects every API call without touching the client's internals.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API_URL):
            url = self.base_url + url[len(TWILIO_API_URL) :]
        return super().request(method, url, *args, **kwargs)


def _permanent(status: int) -> bool:
    # Twilio's 4xx (bad number, bad credentials) will fail again; 429 and 5xx may not.
    return 400 <= status < 500 and status != 429


def _masked(number: str) -> str:
    # A mobile number is personal data; enough of it to tell which contact it was.
    return f"…{number[-3:]}" if len(number) > 3 else "…"
