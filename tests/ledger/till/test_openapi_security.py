"""The OpenAPI documents declare how each API authenticates: HTTP Basic on the till
API's operations, bearer on the admin API's. The till API's document (`/openapi.json`,
`/docs`) is public; the whole one, admin operations included, is served only to the
admin token (`/admin/openapi.json`)."""

from __future__ import annotations

import json

import httpx

from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant


def _schemes_of(document: dict, operation: dict) -> dict[str, dict]:
    schemes = document["components"]["securitySchemes"]
    return {name: schemes[name] for requirement in operation["security"] for name in requirement}


def test_the_public_document_is_the_till_api_with_http_basic(anonymous: httpx.Client) -> None:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert paths and all(path.startswith("/v1/") for path in paths), sorted(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            schemes = _schemes_of(document, operation)
            assert [(s["type"], s["scheme"]) for s in schemes.values()] == [("http", "basic")], (
                path,
                method,
            )
    text = json.dumps(document)
    for admin_only in ("/admin/", "AccountOut", "IntegrationUserOut", "bearer"):
        assert admin_only not in text, admin_only
    assert anonymous.get("/docs").status_code == 200


def test_the_whole_document_is_for_the_admin_token_only(
    anonymous: httpx.Client, merchant: Merchant, admin: httpx.Client
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {merchant.username}:{merchant.password}"},
    ):
        refused = anonymous.get("/admin/openapi.json", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "unauthorized"
    with httpx.Client(base_url=str(anonymous.base_url), auth=merchant.till.auth) as till:
        assert till.get("/admin/openapi.json").status_code == 401

    response = admin.get("/admin/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    admin_paths = [p for p in document["paths"] if p.startswith("/admin/")]
    till_paths = [p for p in document["paths"] if p.startswith("/v1/")]
    assert admin_paths and till_paths
    for path, operations in document["paths"].items():
        for operation in operations.values():
            kinds = [(s["type"], s["scheme"]) for s in _schemes_of(document, operation).values()]
            expected = ("http", "bearer") if path.startswith("/admin/") else ("http", "basic")
            assert kinds == [expected], path
    assert ADMIN_TOKEN not in response.text
