"""Card numbers in odd spellings stay out of the logs (till-api.md "Guarantees": codes
in logs show their last four characters only, the access log included).

The ledger is served in this process under caplog, and a till (or anyone) sends a
real voucher code separated by every character a client could put between its
digits, in non-ASCII digits, percent-encoded, and with one digit mistyped. No log
record may then hold twelve or more of the code's digits in a row, once the record is
read back the way a person would: percent-decoded, digits folded to ASCII and every
character that is not a digit dropped.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.core.config import Settings
from api.core.logging import _mask_characters, mask_digits
from harness.constants import ADMIN_TOKEN
from harness.factories import make_merchant
from harness.ledger_app import serve_ledger

# Built from code points: the digits themselves look like ASCII ones in an editor.
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))


def hostile_spellings(code: str) -> dict[str, str]:
    """Path segments (as sent, percent-encoding included) that carry ``code``."""
    groups = [code[i : i + 4] for i in range(0, len(code), 4)]
    spellings = {
        f"joined by {name}": sep.join(groups)
        for name, sep in {
            "dots": ".",
            "plus signs": "+",
            "underscores": "_",
            "commas": ",",
            "tabs": "%09",
            "slashes": "/",
            "NULs": "%00",
            "encoded spaces": "%20",
            "two characters": "._",
            "encoded dots": "%2E",
        }.items()
    }
    spellings["fullwidth digits"] = quote(code.translate(FULLWIDTH))
    spellings["arabic-indic digits"] = quote(code.translate(ARABIC_INDIC))
    spellings["percent-encoded ASCII digits"] = "".join(f"%{ord(c):02X}" for c in code)
    spellings["one letter typed for a digit"] = code[:9] + "a" + code[10:]
    spellings["one letter typed in"] = code[:9] + "x" + code[9:]
    spellings["every other digit spaced"] = " ".join(code)
    return spellings


def readable_digits(text: str) -> str:
    """The digits of ``text`` as a person would read them out of it."""
    decoded = unicodedata.normalize("NFKC", unquote(text))
    return "".join(str(int(c)) for c in decoded if c.isdecimal())


def longest_shared_run(code: str, digits: str) -> int:
    """The longest run of ``code``'s consecutive digits that ``digits`` holds."""
    longest = 0
    for start in range(len(code)):
        for end in range(start + longest + 1, len(code) + 1):
            if code[start:end] not in digits:
                break
            longest = end - start
    return longest


def test_hostile_spellings_of_a_code_are_masked_in_every_log_record(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in test_logs_and_secrets: undo what another test's Prefect logging set-up may
    # have done to these loggers, so their records reach caplog.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "api", "sqlalchemy.engine"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "disabled", False)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "level", logging.NOTSET)
    logging.getLogger().manager._clear_cache()
    caplog.set_level(logging.DEBUG)
    with (
        serve_ledger(settings) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as admin,
    ):
        merchant = make_merchant(server, admin)
        try:
            code = merchant.sold_code(1000)
            sent = hostile_spellings(code)
            for name, spelled in sent.items():
                for path in (f"/v1/vouchers/{spelled}", f"/v1/vouchers/{spelled}/redeem"):
                    url = httpx.URL(server.url + path, params={"store_id": merchant.store})
                    if path.endswith("/redeem"):
                        response = merchant.till.post(
                            url, json={"store_id": merchant.store, "amount": 1, "reference": name}
                        )
                    else:
                        response = merchant.till.get(url)
                    assert response.status_code < 500, (name, response.text)
        finally:
            merchant.close()

    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    access = [r for r in records if r.name == "uvicorn.access"]
    assert len(access) >= 2 * len(sent), "the access log did not log the calls"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        line = formatter.format(record)
        digits = readable_digits(line)
        assert longest_shared_run(code, digits) < 12, (
            f"card number logged: {code[-4:]!r} in {re.sub(r'[0-9]', '#', line)}"
        )
    # The access log still shows which code each call was about: its last four digits.
    assert sum(f"…{code[-4:]}" in formatter.format(r) for r in access) >= len(sent)


@hypothesis_settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789 -._/,+\t:?=aZ", max_size=80))
def test_the_fast_mask_of_plain_text_masks_as_the_character_by_character_one(text: str) -> None:
    """Plain ASCII text (every access-log line of a till call) is masked by one regex
    pass; it must give exactly what reading it character by character gives."""
    assert mask_digits(text) == _mask_characters(text)
