"""The outbox: where emails and text messages go when SMTP or Twilio is not configured.

One file per message, so a person (or a test) can open exactly what would have been
sent. Files are 0600: a text message here holds a file password.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path


class Outbox:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def write_email(self, message: EmailMessage) -> Path:
        """Write ``message`` as an ``.eml`` file (CRLF line ends, as on the wire)."""
        return self._write(f"email-{self._stamp()}.eml", message.as_bytes(policy=SMTP))

    def write_text(self, to: str, body: str) -> Path:
        """Write a text message as ``sms-<timestamp>-<uuid>.txt``: a To: line, then the body."""
        sent_at = datetime.now(UTC).isoformat(timespec="seconds")
        content = f"To: {to}\nDate: {sent_at}\n\n{body}"
        if not content.endswith("\n"):
            content += "\n"
        return self._write(f"sms-{self._stamp()}.txt", content.encode())

    @staticmethod
    def _stamp() -> str:
        # Sorts by time in a file listing; the uuid keeps two in one microsecond apart.
        return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}"

    def _write(self, name: str, data: bytes) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / name
        # O_EXCL: never overwrite; mode given at creation, so the file is never briefly
        # readable by others as it would be with write-then-chmod.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return path
