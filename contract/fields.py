"""Field types the admin API's bodies share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Row IDs are 32-bit integers in the database (PostgreSQL INTEGER). A number outside
# 1..MAX_ROW_ID names no row and would fail in the database driver (a 500), so it is
# refused up front as malformed (422), and the OpenAPI document says so.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

# PostgreSQL text cannot hold a NUL character (the driver refuses it: a 500), so text
# fields refuse it as malformed (422), the same on both backends.
NO_NUL = r"^[^\x00]*$"
