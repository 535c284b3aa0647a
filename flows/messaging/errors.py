"""Why an email or a text message did not go out.

Exception tree::

    DeliveryError
    ├── EmailDeliveryError    SMTP connection, TLS, login or refusal
    └── TextDeliveryError     Twilio connection or API error

``permanent`` says whether trying again could help: a 4xx SMTP reply, a dropped
connection or a Twilio 5xx is worth a retry; a 5xx SMTP reply, a failed login or a
Twilio 4xx (bad number, bad credentials) is not. The flow's retry condition reads it.

Messages name the server, the code and the server's own words; they never hold a
password, an auth token or the body of a text message.
"""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EmailDeliveryError(DeliveryError):
    def __init__(
        self, message: str, *, permanent: bool = False, smtp_code: int | None = None
    ) -> None:
        super().__init__(message, permanent=permanent)
        self.smtp_code = smtp_code


class TextDeliveryError(DeliveryError):
    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        status: int | None = None,
        twilio_code: int | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status
        self.twilio_code = twilio_code
