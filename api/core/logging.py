"""Log masking: no card number reaches a log line whole.

Voucher codes travel in URL paths, so the HTTP server's access log would print them,
and a hostile or sloppy client may send one in any spelling: separated by dots, plus
signs, underscores, commas, tabs, slashes or NULs, in non-ASCII digits (which the
access log prints percent-encoded), or with a letter typed in place of a digit. So the
mask reads text as characters, a percent-encoded UTF-8 character counting as the one
character it stands for, and treats any run of (Unicode) digits in which each digit
follows the one before within ``_MAX_GAP`` other characters as one number: a number
of twelve or more digits is rewritten to its last four digits. It is installed on the
loggers that write such lines and on every handler of the root logger.

Store-ID links (api/store_id_links) carry their token in the path, and the token opens
the page: the mask keeps only its last four characters, as it does a card number's
last four digits.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import unquote

_MIN_DIGITS = 12
# Characters allowed between two digits of one number ("6301 - 1900" has three).
_MAX_GAP = 3
_SOURCE_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "api", "sqlalchemy.engine")

# One character: a percent-encoded UTF-8 sequence (1 to 4 bytes), or any one character.
_CHARACTER = re.compile(
    r"%(?:[0-7][0-9A-Fa-f]"
    r"|[CDcd][0-9A-Fa-f]%[89ABab][0-9A-Fa-f]"
    r"|[Ee][0-9A-Fa-f](?:%[89ABab][0-9A-Fa-f]){2}"
    r"|[Ff][0-7](?:%[89ABab][0-9A-Fa-f]){3})"
    r"|.",
    re.DOTALL,
)
_DIGIT = re.compile(r"\d")
# In plain ASCII text with no percent-encoding, a number is a run that this matches.
_ASCII_NUMBER = re.compile(rf"[0-9](?:[^0-9]{{0,{_MAX_GAP}}}[0-9])*")


def _may_hold_a_card_number(text: str) -> bool:
    """False when ``text`` has too few digits to hold a card number at all (each
    percent-encoded character counted as a digit it might stand for): most log text,
    uvicorn's access-log template ``%s - "%s %s HTTP/%s" %d`` among it."""
    return len(_DIGIT.findall(text)) + text.count("%") >= _MIN_DIGITS


_LINK_TOKEN = re.compile(r"(/polaris/store-ids/)([^/?#\s\"']+)", re.IGNORECASE)


def mask_link_tokens(text: str) -> str:
    """``text`` with the token of any store-ID link cut to its last four characters."""
    if "store-ids/" not in text.lower():
        return text
    return _LINK_TOKEN.sub(lambda m: f"{m.group(1)}…{m.group(2)[-4:]}", text)


def mask_secrets(text: str) -> str:
    """Card numbers and store-ID link tokens masked."""
    return mask_digits(mask_link_tokens(text))


def mask_digits(text: str) -> str:
    """``text`` with every number that could be a card number cut to its last four
    digits (``…8384``)."""
    if not _may_hold_a_card_number(text):
        return text
    if "%" not in text and text.isascii():
        # Every access-log line of a till call (its path holds the code): one regex
        # pass, where reading character by character cost ~60 µs a line, for every
        # call, an attacker's included.
        return _ASCII_NUMBER.sub(_masked_number, text)
    return _mask_characters(text)


def _masked_number(number: re.Match[str]) -> str:
    digits = [c for c in number.group(0) if "0" <= c <= "9"]
    if len(digits) < _MIN_DIGITS:
        return number.group(0)
    return "…" + "".join(digits[-4:])


def _mask_characters(text: str) -> str:
    """``mask_digits`` for any text: a percent-encoded character counts as the one
    character it stands for, and any Unicode digit as a digit."""
    pieces: list[str] = []
    copied = 0  # text[:copied] is settled (in pieces)
    digits: list[str] = []  # the current number's digits (ASCII)
    number_start = number_end = 0  # its span in text
    gap = 0
    for match in _CHARACTER.finditer(text):
        token = match.group(0)
        char = unquote(token, errors="replace") if len(token) > 1 else token
        if len(char) == 1 and char.isdecimal():
            if not digits or gap > _MAX_GAP:
                if len(digits) >= _MIN_DIGITS:
                    pieces.append(text[copied:number_start] + "…" + "".join(digits[-4:]))
                    copied = number_end
                digits, number_start = [], match.start()
            digits.append(str(int(char)))
            number_end, gap = match.end(), 0
        else:
            gap += 1
    if len(digits) >= _MIN_DIGITS:
        pieces.append(text[copied:number_start] + "…" + "".join(digits[-4:]))
        copied = number_end
    return "".join(pieces) + text[copied:]


def _is_address(value: str) -> bool:
    """True for a client address as the access log prints it (``203.0.113.9:50432``):
    left as it is, it holds no card number, and operators need it."""
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        host = value
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _mask_argument(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = mask_link_tokens(value)
    if not _may_hold_a_card_number(value) or _is_address(value):
        return value
    return mask_digits(value)


class MaskCardNumbers(logging.Filter):
    """Masks the message template, each string argument and any traceback text,
    keeping ``args`` a tuple (uvicorn's access formatter unpacks it)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_argument(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_argument(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_secrets(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


_FILTER = MaskCardNumbers()


def install_masking() -> None:
    """Idempotent: safe to call from every app start-up."""
    loggers = [logging.getLogger(name) for name in _SOURCE_LOGGERS] + [logging.getLogger()]
    for logger in loggers:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def uvicorn_log_config() -> dict[str, object]:
    """uvicorn's logging config with the mask on each handler (for `ledger serve`)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    config["filters"] = {"mask_card_numbers": {"()": "api.core.logging.MaskCardNumbers"}}
    handlers = {
        name: {**h, "filters": ["mask_card_numbers"]}
        for name, h in LOGGING_CONFIG["handlers"].items()
    }
    config["handlers"] = handlers
    # Each line ends with the process that wrote it: under `--workers N` they share one log.
    config["formatters"] = {
        name: {**f, "fmt": f"{f['fmt']} [pid %(process)d]"}
        for name, f in LOGGING_CONFIG["formatters"].items()
    }
    # The app's own loggers (api.errors logs unexpected errors with their traceback)
    # through the same masked handler: left to propagate, they would reach the root
    # logger, which has no handler here, and Python's last-resort handler prints them
    # unmasked.
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "api": {"handlers": ["default"], "level": "INFO", "propagate": False},
    }
    return config
