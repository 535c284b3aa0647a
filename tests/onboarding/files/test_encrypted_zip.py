import io
import struct
import zipfile

import pytest
import pyzipper

from flows.credentials_file import (
    WrongFilePasswordError,
    build_workbook,
    new_file_password,
    pack_encrypted,
    unpack_encrypted,
)
from tests.onboarding.polaris_file import SAMPLE_API_PASSWORD, sample_sheet

WZ_AES_METHOD = 99
AES_EXTRA_ID = 0x9901
AES_256 = 3


@pytest.fixture
def workbook() -> bytes:
    return build_workbook(sample_sheet())


def aes_extra(extra: bytes) -> tuple[bytes, int]:
    """The WinZip AES extra field's vendor ID and key strength."""
    offset = 0
    while offset + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, offset)
        if header_id == AES_EXTRA_ID:
            _version, vendor, strength, _method = struct.unpack_from("<H2sBH", extra, offset + 4)
            return vendor, strength
        offset += 4 + size
    raise AssertionError("no WinZip AES extra field")


def test_round_trip_with_the_password(workbook: bytes) -> None:
    password = new_file_password()
    data = pack_encrypted("crown.xlsx", workbook, password)
    assert unpack_encrypted(data, password) == {"crown.xlsx": workbook}


def test_entries_are_aes_256(workbook: bytes) -> None:
    data = pack_encrypted("crown.xlsx", workbook, new_file_password())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (info,) = archive.infolist()
    assert info.flag_bits & 0x1, "encrypted flag"
    assert info.compress_type == WZ_AES_METHOD
    assert aes_extra(info.extra) == (b"AE", AES_256)


def test_contents_are_not_readable_without_the_password(workbook: bytes) -> None:
    data = pack_encrypted("crown.xlsx", workbook, new_file_password())
    assert SAMPLE_API_PASSWORD.encode() not in data
    assert b"polaris-crown" not in data
    with (
        zipfile.ZipFile(io.BytesIO(data)) as archive,
        pytest.raises(RuntimeError, match="password"),
    ):
        archive.read("crown.xlsx")
    with (
        pyzipper.AESZipFile(io.BytesIO(data)) as archive,
        pytest.raises(RuntimeError, match="password"),
    ):
        archive.read("crown.xlsx")


def test_wrong_password_raises_a_clear_error(workbook: bytes) -> None:
    right = new_file_password()
    data = pack_encrypted("crown.xlsx", workbook, right)
    wrong = new_file_password()
    with pytest.raises(WrongFilePasswordError) as caught:
        unpack_encrypted(data, wrong)
    assert wrong not in str(caught.value)
    assert right not in str(caught.value)


def test_empty_password_is_refused(workbook: bytes) -> None:
    data = pack_encrypted("crown.xlsx", workbook, new_file_password())
    with pytest.raises(WrongFilePasswordError):
        unpack_encrypted(data, "")
