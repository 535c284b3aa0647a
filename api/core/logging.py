"""Log masking: no card number reaches a log line whole.

Voucher codes travel in URL paths, so the HTTP server's access log would print them.
A filter rewrites every run of twelve or more digits (spaces, dashes and ``%20``
between them allowed) to its last four characters. It is installed on the loggers
that write such lines and on every handler of the root logger.
"""

from __future__ import annotations

import logging
import re

_DIGIT_RUN = re.compile(r"\d(?:\d|[ -]|%20)*\d")
_MIN_DIGITS = 12
_SOURCE_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "api", "sqlalchemy.engine")


def mask_digits(text: str) -> str:
    def _mask(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = run.replace("%20", "").replace(" ", "").replace("-", "")
        if len(digits) < _MIN_DIGITS:
            return run
        return "…" + digits[-4:]

    return _DIGIT_RUN.sub(_mask, text)


class MaskCardNumbers(logging.Filter):
    """Masks the message template, each string argument and any traceback text,
    keeping ``args`` a tuple (uvicorn's access formatter unpacks it)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_digits(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_digits(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: mask_digits(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_digits(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_digits(record.exc_text)
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
