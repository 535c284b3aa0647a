"""Crash points for fault tests: the process dies at once (no cleanup, as a killed
worker would) when the flow reaches the named point.

Armed by ``ONBOARDING_FAILPOINT=<name>``, or by a file named in
``ONBOARDING_FAILPOINT_FILE`` holding the name; the file is removed as it fires, so
the next attempt runs through. Names are stage boundaries, e.g.
``after:create_api_user``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "ONBOARDING_FAILPOINT"
FILE_ENV = "ONBOARDING_FAILPOINT_FILE"
EXIT_CODE = 86


def reached(name: str) -> None:
    if os.environ.get(ENV) == name:
        os._exit(EXIT_CODE)
    armed = os.environ.get(FILE_ENV)
    if armed:
        path = Path(armed)
        try:
            if path.read_text().strip() == name:
                path.unlink()
                os._exit(EXIT_CODE)
        except FileNotFoundError:
            return
