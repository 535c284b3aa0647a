"""What every part of the harness agrees on: where the project is, which ledger
databases a run covers, and the admin token the test ledgers are given."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# LEDGER_TEST_BACKENDS (default "sqlite,postgresql"): the ledger databases a run covers.
BACKENDS = [
    b.strip()
    for b in os.environ.get("LEDGER_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]

ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"

# The key the test ledgers sign store-ID links with.
STORE_ID_LINK_KEY = "test-store-id-link-key-0123456789abcdef0123"
# Nothing listens here (the discard port, closed on loopback): a ledger whose Prefect is
# down. Tests that need Prefect give the ledger the real one's URL.
NO_PREFECT_API_URL = "http://127.0.0.1:9/api"
