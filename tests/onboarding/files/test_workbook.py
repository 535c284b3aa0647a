import io

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from flows.credentials_file import (
    HEADER_FIRST_ROW,
    HEADER_LABELS,
    LOCKED_FILL,
    SITE_COLUMNS,
    SITES_HEADER_ROW,
    STORE_ID_COLUMN,
    SheetSite,
    build_workbook,
)
from tests.onboarding.polaris_file import SAMPLE_API_PASSWORD, SAMPLE_SITES, sample_sheet

BLUE = LOCKED_FILL.start_color.rgb


def open_sheet(data: bytes) -> Worksheet:
    ws = load_workbook(io.BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


@pytest.fixture
def ws() -> Worksheet:
    return open_sheet(build_workbook(sample_sheet()))


def test_header_block_holds_each_label_and_value(ws: Worksheet) -> None:
    sheet = sample_sheet()
    expected = {
        "API endpoint": sheet.api_endpoint,
        "Username": sheet.username,
        "Password": SAMPLE_API_PASSWORD,
        "Account ID": 42,
        "In-store product ID": 7,
        "Card range": sheet.card_range,
        "Card length": 19,
    }
    assert list(expected) == list(HEADER_LABELS)
    for offset, (label, value) in enumerate(expected.items()):
        row = HEADER_FIRST_ROW + offset
        assert ws.cell(row, 1).value == label
        assert ws.cell(row, 2).value == value
        assert ws.cell(row, 1).font.b


def test_sites_table_has_one_row_per_site_and_an_empty_store_id(ws: Worksheet) -> None:
    assert [ws.cell(SITES_HEADER_ROW, c).value for c in range(1, 6)] == list(SITE_COLUMNS)
    assert all(ws.cell(SITES_HEADER_ROW, c).font.b for c in range(1, 6))
    for offset, site in enumerate(SAMPLE_SITES, start=1):
        row = SITES_HEADER_ROW + offset
        values = [ws.cell(row, c).value for c in range(1, 6)]
        assert values == [site.name, site.address, site.reference, site.site_id, None]
    assert ws.max_row == SITES_HEADER_ROW + len(SAMPLE_SITES)


def test_sheet_is_protected_and_only_store_id_cells_are_editable(ws: Worksheet) -> None:
    assert ws.protection.sheet is True
    store_id_cells = {
        (SITES_HEADER_ROW + i, STORE_ID_COLUMN) for i in range(1, len(SAMPLE_SITES) + 1)
    }
    for row in ws.iter_rows(min_row=HEADER_FIRST_ROW):
        for cell in row:
            if (cell.row, cell.column) in store_id_cells:
                assert cell.protection.locked is False, cell.coordinate
                assert cell.fill.fill_type is None, cell.coordinate
            elif cell.value is not None:
                assert cell.protection.locked is True, cell.coordinate
    # Cells never written are locked by Excel's default too.
    assert ws.cell(ws.max_row + 5, 1).protection.locked is True


def test_cells_polaris_must_not_edit_are_blue(ws: Worksheet) -> None:
    blue = 0
    for row in ws.iter_rows(min_row=HEADER_FIRST_ROW):
        for cell in row:
            if cell.value is not None:
                assert cell.protection.locked is True
                assert cell.fill.fill_type == "solid", cell.coordinate
                assert cell.fill.start_color.rgb == BLUE, cell.coordinate
                blue += 1
    assert blue == len(HEADER_LABELS) * 2 + len(SITE_COLUMNS) + len(SAMPLE_SITES) * 4


def test_columns_are_wide_enough_to_read(ws: Worksheet) -> None:
    for letter in "ABCDE":
        assert (ws.column_dimensions[letter].width or 0) >= 12
    assert ws.column_dimensions["B"].width >= len(sample_sheet().card_range)


def test_text_that_looks_like_a_formula_stays_text() -> None:
    site = SheetSite(
        name='=HYPERLINK("http://evil.example","x")', address="a", reference="r", site_id=1
    )
    ws = open_sheet(build_workbook(sample_sheet(sites=[site])))
    cell = ws.cell(SITES_HEADER_ROW + 1, 1)
    assert cell.data_type == "s"
    assert cell.value == site.name


def test_password_is_not_shown_in_the_sheets_repr() -> None:
    assert SAMPLE_API_PASSWORD not in repr(sample_sheet())
