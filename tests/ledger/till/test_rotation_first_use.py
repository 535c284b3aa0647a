"""A rotation's switch-over, over real HTTP on both databases: while a rotation runs,
the account's old and new Polaris credentials both work; the first till call the
ledger takes from one of the account's stores with the new credential revokes the old
one, at once; a call with the new one from a store that is not the account's does not."""

from __future__ import annotations

from typing import Any

import httpx

from harness.factories import Merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import unknown_code

POLARIS = {"name": "Pat", "email": "pat@polaris.example", "mobile": "+447700900123"}


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _balance_status(ledger: LedgerServer, auth: tuple[str, str], store_id: str) -> int:
    with httpx.Client(base_url=ledger.url, auth=auth, timeout=30) as till:
        response = till.get(f"/v1/vouchers/{unknown_code()}", params={"store_id": store_id})
    return response.status_code


def test_the_old_credential_stops_when_a_till_first_calls_with_the_new_one(
    merchant: Merchant, ledger: LedgerServer, admin: httpx.Client
) -> None:
    account_id = merchant.account_id
    old = _created(
        admin.post(
            f"/admin/accounts/{account_id}/integration-users",
            json={"purpose": "polaris", "label": "Polaris"},
        )
    )
    old_auth = (old["username"], old["password"])
    rotation = _created(
        admin.post(
            "/admin/onboardings",
            json={"account_id": account_id, "polaris": POLARIS, "kind": "rotation"},
        )
    )
    new = _created(admin.post(f"/admin/onboardings/{rotation['id']}/credential"))
    new_auth = (new["username"], new["password"])
    store = merchant.store_ids[0]

    # During the grace: both work; the new one from a store of no site is not a switch.
    assert _balance_status(ledger, old_auth, store) == 404
    assert _balance_status(ledger, new_auth, "not-a-store") == 403
    ledger.settle()
    assert _balance_status(ledger, old_auth, store) == 404

    # The first call with the new credential at one of the account's stores.
    assert _balance_status(ledger, new_auth, store) == 404
    ledger.settle()
    assert _balance_status(ledger, old_auth, store) == 401
    assert _balance_status(ledger, new_auth, merchant.store_ids[1]) == 404
    users = {
        u["id"]: u for u in admin.get(f"/admin/accounts/{account_id}/integration-users").json()
    }
    assert users[old["id"]]["is_active"] is False
    assert users[new["api_user_id"]]["is_active"] is True

    # The rotation's run then closes the record: the new one is the account's credential.
    done = admin.post(f"/admin/onboardings/{rotation['id']}/stages/verified", json={})
    assert done.status_code == 200 and done.json()["status"] == "rotated"
    after = admin.get(f"/admin/integration-users/{new['api_user_id']}").json()
    assert after["replaces_id"] is None and after["is_active"] is True
