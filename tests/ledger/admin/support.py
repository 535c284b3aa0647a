"""Assertions and builders for the admin API tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM_JSON
    body = dict(response.json())
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == f"/problems/{code}"
    assert body["title"] and body["detail"]
    return body


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    return dict(response.json())


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    return response.json()


def new_account(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Merchant {uuid.uuid4().hex[:6]}", **fields}
    return created(admin.post("/admin/accounts", json=body))


def new_site(admin: httpx.Client, account_id: int, n: int) -> dict[str, Any]:
    body = {"name": f"Site {n}", "address": f"{n} High Street", "reference": f"site-{n}"}
    return created(admin.post(f"/admin/accounts/{account_id}/sites", json=body))


def sites_of(admin: httpx.Client, account_id: int) -> list[dict[str, Any]]:
    return list(ok(admin.get(f"/admin/accounts/{account_id}/sites")))
