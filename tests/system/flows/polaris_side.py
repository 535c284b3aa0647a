"""What Polaris's account manager does with what we send: read the text message,
open the zip with its password, read the spreadsheet."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import openpyxl

from flows.credentials_file import (
    HEADER_FIRST_ROW,
    HEADER_LABELS,
    SITES_HEADER_ROW,
    unpack_encrypted,
)

FILE_PASSWORD = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3,}\b")


@dataclass
class PolarisFile:
    fields: dict[str, Any]
    sites: list[dict[str, Any]]
    raw_zip: bytes


def password_from_text(body: str) -> str:
    match = FILE_PASSWORD.search(body)
    assert match, f"no file password in the text message: {body!r}"
    return match.group(0)


def zip_attachment(message: EmailMessage) -> tuple[str, bytes]:
    attachments = [part for part in message.iter_attachments() if part.get_filename()]
    assert len(attachments) == 1, "the email should carry exactly one attachment"
    payload = attachments[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return str(attachments[0].get_filename()), payload


def open_file(zip_bytes: bytes, password: str) -> PolarisFile:
    files = unpack_encrypted(zip_bytes, password)
    (xlsx,) = [content for name, content in files.items() if name.endswith(".xlsx")]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    fields = {
        sheet.cell(row=HEADER_FIRST_ROW + i, column=1).value: sheet.cell(
            row=HEADER_FIRST_ROW + i, column=2
        ).value
        for i in range(len(HEADER_LABELS))
    }
    sites = []
    row = SITES_HEADER_ROW + 1
    while sheet.cell(row=row, column=1).value:
        sites.append(
            {
                "name": sheet.cell(row=row, column=1).value,
                "reference": sheet.cell(row=row, column=3).value,
                "site_id": int(sheet.cell(row=row, column=4).value),
                "store_id": sheet.cell(row=row, column=5).value,
            }
        )
        row += 1
    return PolarisFile(fields=fields, sites=sites, raw_zip=zip_bytes)


STORE_ID_LINK = re.compile(r"https?://[^\s\"'<>]+/polaris/store-ids/[A-Za-z0-9_\-.]+")


def store_id_link_from(message: EmailMessage) -> str:
    """The store-ID link, as Polaris finds it in the email: the same in its text part
    and its HTML part."""
    found = set()
    for preference in ("plain", "html"):
        part = message.get_body(preferencelist=(preference,))
        assert part is not None, f"the email has no {preference} part"
        links = set(STORE_ID_LINK.findall(part.get_content()))
        assert len(links) == 1, f"{preference} part: {links}"
        found |= links
    assert len(found) == 1, f"the text and HTML parts link to different pages: {found}"
    return found.pop()
