"""Credentials for integration users, drawn from a cryptographic random source."""

from __future__ import annotations

import secrets

# 32 URL-safe characters carry 192 bits: well above the 128 the design asks for.
PASSWORD_BYTES = 24


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def new_username(account_id: int) -> str:
    return f"polaris-{account_id}-{secrets.token_hex(4)}"
