"""The embedded default's shared ground: the var/ folder, the development admin token
the ledger and the flows on one machine both use (and the ledger's other development
secret, the key that signs its store-ID links), and the rule that refuses such
defaults in production.

    python -m contract.development admin-token VAR_DIR
    python -m contract.development store-id-link-key VAR_DIR

prints the token (the key) kept in VAR_DIR (creating it the first time), for scripts/up.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = PROJECT_ROOT / "var"
ADMIN_TOKEN_FILENAME = "admin-token"
STORE_ID_LINK_KEY_FILENAME = "store-id-link-key"
MIN_ADMIN_TOKEN_LENGTH = 32

# "development" lets a missing secret default to one made on this machine; anything
# else must be configured.
Environment = Literal["development", "production"]


def development_admin_token(var_dir: Path = VAR_DIR) -> str:
    """The admin token kept in ``var_dir/admin-token``, created there the first time."""
    return development_secret(ADMIN_TOKEN_FILENAME, var_dir)


def development_store_id_link_key(var_dir: Path = VAR_DIR) -> str:
    """The key the ledger signs store-ID links with, kept in ``var_dir/store-id-link-key``."""
    return development_secret(STORE_ID_LINK_KEY_FILENAME, var_dir)


def development_secret(filename: str, var_dir: Path = VAR_DIR) -> str:
    """The secret kept in ``var_dir/filename``, created there the first time.

    Processes starting together agree on one secret: each writes a complete file of its
    own and links it into place; a link, unlike a rename, fails when the name exists,
    so the first one in wins and the others read its secret. No reader ever sees a
    half-written file.
    """
    token_file = var_dir / filename
    if token_file.exists():
        return _read_token(token_file)
    var_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)  # 256 random bits, as 43 characters
    # mkstemp creates the file readable and writable by its owner only (0600).
    descriptor, draft = tempfile.mkstemp(dir=var_dir, prefix=f".{filename}-")
    try:
        with os.fdopen(descriptor, "w") as draft_file:
            draft_file.write(token)
        os.link(draft, token_file)
    except FileExistsError:
        return _read_token(token_file)
    finally:
        os.unlink(draft)
    return token


def _read_token(token_file: Path) -> str:
    token = token_file.read_text().strip()
    if not token:
        # An empty token would let an empty bearer credential in.
        raise ValueError(f"{token_file} is empty; delete it and a new one is made")
    return token


def refuse_short_admin_token(
    token: SecretStr | None,
    environment: Environment,
    *,
    token_variable: str,
    environment_variable: str,
) -> None:
    """Outside development, refuse an admin token (or another secret of the embedded
    default, such as the store-ID link key) that is missing or too short to be random.
    The message names both settings, as the person fixing it knows them."""
    if environment == "development":
        return
    value = token.get_secret_value() if token is not None else ""
    if len(value) < MIN_ADMIN_TOKEN_LENGTH:
        raise ValueError(
            f"{token_variable} must be set to a random value of at least "
            f"{MIN_ADMIN_TOKEN_LENGTH} characters when {environment_variable}={environment}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m contract.development", description="Development defaults."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    files = {"admin-token": ADMIN_TOKEN_FILENAME, "store-id-link-key": STORE_ID_LINK_KEY_FILENAME}
    helps = {
        "admin-token": "Print the development admin token kept in VAR_DIR (made if absent).",
        "store-id-link-key": "Print the ledger's development store-ID link key kept in VAR_DIR "
        "(made if absent).",
    }
    for command, text in helps.items():
        commands.add_parser(command, help=text).add_argument(
            "var_dir", metavar="VAR_DIR", type=Path
        )
    arguments = parser.parse_args(argv)
    try:
        token = development_secret(files[arguments.command], arguments.var_dir)
    except (OSError, ValueError) as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    # Printed for the caller to capture (scripts/up exports it); never logged.
    sys.stdout.write(token + "\n")


if __name__ == "__main__":
    main()
