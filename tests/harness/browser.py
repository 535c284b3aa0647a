"""Debian's Chromium, headless, driven by Playwright (never a browser of its own).

The flags are the ones this machine needs: no sandbox as root, no GPU, and no
background networking, whose connections the closed network refuses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"CHROMIUM MISSING: {CHROMIUM} not found, so the browser tests cannot run. "
        "Install Debian's packages: apt-get install -y chromium chromium-driver "
        "(.ci/run does this in CI)."
    )


@contextmanager
def headless_chromium(
    profile_dir: Path, timeout_ms: float = 30_000, **options: Any
) -> Iterator[BrowserContext]:
    """A fresh Chromium profile in ``profile_dir``, closed afterwards. ``options`` go
    to Playwright's context (e.g. ``java_script_enabled=False``, a phone's viewport)."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile_dir,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            **{"viewport": {"width": 1280, "height": 900}, **options},
        )
        # The Prefect UI is a single-page app on a busy 2-core machine: be patient.
        context.set_default_timeout(timeout_ms)
        expect.set_options(timeout=timeout_ms)
        try:
            yield context
        finally:
            context.close()
