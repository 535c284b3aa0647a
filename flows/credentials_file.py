"""The encrypted credentials file sent to Polaris: its password, its spreadsheet, its zip.

Plain functions with no Prefect in them, so the flow's tasks stay thin and these can
be tested on their own. Nothing here logs, stores or prints the passwords it handles.
"""

from __future__ import annotations

import io
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyzipper
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# --- The file password -------------------------------------------------------------

# Typed from a phone screen, so no look-alikes: 0/O/Q, 1/I/L, 2/Z, 5/S, 8/B and U/V are
# all left out (which leaves D unmistakable), and G goes so that 6 stands alone.
PASSWORD_ALPHABET = "34679ACDEFHJKMNPRTWXY"
PASSWORD_GROUP_SIZE = 4
MIN_PASSWORD_BITS = 128
# Enough whole groups to reach MIN_PASSWORD_BITS (8 groups of 4 = 32 chars, ~140 bits).
PASSWORD_GROUPS = math.ceil(
    MIN_PASSWORD_BITS / (PASSWORD_GROUP_SIZE * math.log2(len(PASSWORD_ALPHABET)))
)


def new_file_password() -> str:
    """A fresh password for the zip, e.g. ``K7QH-3MWA-…``, from the OS's CSPRNG."""
    groups = (
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_SIZE))
        for _ in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)


# --- The spreadsheet ---------------------------------------------------------------


@dataclass(frozen=True)
class SheetSite:
    name: str
    address: str
    reference: str
    site_id: int | str


@dataclass(frozen=True, kw_only=True)
class CredentialSheet:
    api_endpoint: str
    username: str
    # repr=False: a sheet that ends up in a log line or a traceback must not show it.
    password: str = field(repr=False)
    account_id: int | str
    product_id: int | str
    card_range: str
    card_length: int = 19
    sites: list[SheetSite] = field(default_factory=list)


SHEET_TITLE = "Polaris EPOS integration"
# Where things are, so tests (and anyone reading a returned sheet) need not guess.
HEADER_FIRST_ROW = 3
HEADER_LABELS = (
    "API endpoint",
    "Username",
    "Password",
    "Account ID",
    "In-store product ID",
    "Card range",
    "Card length",
)
SITES_HEADER_ROW = HEADER_FIRST_ROW + len(HEADER_LABELS) + 1
SITE_COLUMNS = ("Site name", "Address", "Reference", "Site ID", "Polaris store ID")
STORE_ID_COLUMN = len(SITE_COLUMNS)  # 1-based: the last column, the one Polaris fills in

# The blue the manual spreadsheet used for "do not edit".
LOCKED_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
BOLD = Font(bold=True)
MIN_COLUMN_WIDTH = 12
MAX_COLUMN_WIDTH = 60


def build_workbook(sheet: CredentialSheet) -> bytes:
    """The credentials spreadsheet as .xlsx bytes, protected except for the store IDs."""
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None  # a new Workbook always has one sheet
    ws.title = "Polaris integration"

    title = _put(ws, 1, 1, SHEET_TITLE)
    title.font = Font(bold=True, size=14)

    header_values: tuple[Any, ...] = (
        sheet.api_endpoint,
        sheet.username,
        sheet.password,
        sheet.account_id,
        sheet.product_id,
        sheet.card_range,
        sheet.card_length,
    )
    for offset, (label, value) in enumerate(zip(HEADER_LABELS, header_values, strict=True)):
        row = HEADER_FIRST_ROW + offset
        _locked(_put(ws, row, 1, label)).font = BOLD
        _locked(_put(ws, row, 2, value)).alignment = Alignment(horizontal="left")

    for column, heading in enumerate(SITE_COLUMNS, start=1):
        _locked(_put(ws, SITES_HEADER_ROW, column, heading)).font = BOLD

    for offset, site in enumerate(sheet.sites, start=1):
        row = SITES_HEADER_ROW + offset
        for column, value in enumerate(
            (site.name, site.address, site.reference, site.site_id), start=1
        ):
            _locked(_put(ws, row, column, value)).alignment = Alignment(horizontal="left")
        store_id = ws.cell(row=row, column=STORE_ID_COLUMN)
        store_id.number_format = "@"  # text, so a store ID like 00123 keeps its zeros
        store_id.protection = Protection(locked=False)

    _fit_columns(ws)
    # Protection is what makes "locked" mean anything; without a password it is a
    # guard against slips, not a lock against Polaris, as in the manual process.
    ws.protection.sheet = True

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    cell = ws.cell(row=row, column=column, value=value)
    # openpyxl turns any string starting with "=" into a formula; a site name from the
    # merchant must stay text, never a formula run on Polaris's machine.
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def _locked(cell: Cell) -> Cell:
    cell.fill = LOCKED_FILL
    cell.protection = Protection(locked=True)
    return cell


def _fit_columns(ws: Worksheet) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=HEADER_FIRST_ROW):
        for cell in row:
            if cell.value is not None:
                length = len(str(cell.value))
                widths[cell.column] = max(widths.get(cell.column, 0), length)
    widths[STORE_ID_COLUMN] = max(widths.get(STORE_ID_COLUMN, 0), len("Polaris store ID"))
    for column, length in widths.items():
        width = min(max(length + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)
        ws.column_dimensions[get_column_letter(column)].width = width


# --- The encrypted zip -------------------------------------------------------------


class WrongFilePasswordError(ValueError):
    """The zip's password was missing or wrong (the message never contains it)."""


def pack_encrypted(filename: str, content: bytes, password: str) -> bytes:
    """One file in an AES-256 (WinZip AE-2) zip, which 7-Zip, WinZip and macOS open."""
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        archive.writestr(filename, content)
    return buffer.getvalue()


def unpack_encrypted(data: bytes, password: str) -> dict[str, bytes]:
    """Every file in the zip by name; raises WrongFilePasswordError on a bad password."""
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(password.encode())
        names: Sequence[str] = archive.namelist()
        try:
            return {name: archive.read(name) for name in names}
        except RuntimeError as exc:
            # pyzipper says "Bad password for file …" (or "requires a password") as a
            # bare RuntimeError; give callers something they can catch on its own.
            raise WrongFilePasswordError("the file password is wrong") from exc
