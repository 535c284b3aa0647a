"""Voucher codes as the till contract (shared/till-api.md) promises them: card numbers
of CODE_LENGTH digits, starting with the account's card range and ending with a Luhn
check digit. The ledger makes them to this shape; its clients check them against it."""

from __future__ import annotations

CODE_LENGTH = 19
