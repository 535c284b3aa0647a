"""The outbox: one private file per message, readable back."""

from __future__ import annotations

import stat
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flows.credentials_file import unpack_encrypted
from flows.messaging.email import build_email, send_email
from flows.messaging.outbox import Outbox
from tests.onboarding.messaging.polaris_mail import XLSX_NAME, ZIP_NAME, polaris_mail
from tests.onboarding.messaging.settings import SettingsFactory


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_email_goes_to_the_outbox_when_smtp_is_not_configured(
    onboarding_settings: SettingsFactory, outbox_dir: Path
) -> None:
    settings = onboarding_settings()
    mail = polaris_mail(settings)

    message_id = send_email(mail.message, settings)

    (path,) = outbox_dir.iterdir()
    assert path.suffix == ".eml"
    assert mode(path) == 0o600
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["Message-ID"] == message_id
    assert parsed.get_body(preferencelist=("plain",)) is not None
    assert parsed.get_body(preferencelist=("html",)) is not None
    attachment = next(parsed.iter_attachments())
    assert attachment.get_filename() == ZIP_NAME
    assert unpack_encrypted(attachment.get_content(), mail.file_password) == {
        XLSX_NAME: mail.workbook
    }
    for secret in mail.secrets:
        assert secret.encode() not in path.read_bytes()


def test_one_file_per_email(onboarding_settings: SettingsFactory, outbox_dir: Path) -> None:
    settings = onboarding_settings()
    ids = {
        send_email(
            build_email("ops@toggle.example", f"Hi {n}", "Hello", settings=settings), settings
        )
        for n in range(5)
    }
    assert len(ids) == 5
    assert len(list(outbox_dir.glob("*.eml"))) == 5


def test_text_message_file(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "deep" / "outbox")

    first = outbox.write_text("+447700900123", "Password: K7QH-3MWA")
    second = outbox.write_text("+447700900123", "Password: K7QH-3MWA")

    assert first != second
    assert first.name.startswith("sms-") and first.suffix == ".txt"
    assert mode(first) == 0o600
    header, _, body = first.read_text().partition("\n\n")
    assert "To: +447700900123" in header.splitlines()
    assert body == "Password: K7QH-3MWA\n"
