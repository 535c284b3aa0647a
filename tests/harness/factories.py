"""Building merchants through the admin API, as the onboarding flow would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


class ServedLedger(Protocol):
    """A ledger answering HTTP somewhere: in this process or in its own."""

    @property
    def url(self) -> str: ...


@dataclass
class Merchant:
    account_id: int
    product_id: int
    store_ids: list[str]
    site_ids: list[int]
    username: str
    password: str
    till: httpx.Client
    admin: httpx.Client
    _counter: list[int] = field(default_factory=lambda: [0])

    @property
    def store(self) -> str:
        return self.store_ids[0]

    def reference(self) -> str:
        self._counter[0] += 1
        return f"ref-{self._counter[0]}-{uuid.uuid4().hex[:8]}"

    def sell(self, amount: int = 5000, **overrides: Any) -> httpx.Response:
        body = {
            "store_id": self.store,
            "product_id": self.product_id,
            "amount": amount,
            "reference": self.reference(),
            **overrides,
        }
        return self.till.post("/v1/vouchers", json=body)

    def sold_code(self, amount: int = 5000) -> str:
        response = self.sell(amount)
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    def redeem(self, code: str, amount: int, **overrides: Any) -> httpx.Response:
        body = {
            "store_id": self.store,
            "amount": amount,
            "reference": self.reference(),
            **overrides,
        }
        return self.till.post(f"/v1/vouchers/{code}/redeem", json=body)

    def load(self, code: str, amount: int, **overrides: Any) -> httpx.Response:
        body = {
            "store_id": self.store,
            "amount": amount,
            "reference": self.reference(),
            **overrides,
        }
        return self.till.post(f"/v1/vouchers/{code}/load", json=body)

    def reverse(self, code: str, transaction_id: str, **overrides: Any) -> httpx.Response:
        body = {
            "store_id": self.store,
            "transaction_id": transaction_id,
            "reference": self.reference(),
            **overrides,
        }
        return self.till.post(f"/v1/vouchers/{code}/reverse", json=body)

    def balance(self, code: str, store_id: str | None = None) -> httpx.Response:
        return self.till.get(f"/v1/vouchers/{code}", params={"store_id": store_id or self.store})

    def ledger_of(self, code: str) -> dict[str, Any]:
        response = self.admin.get(f"/admin/vouchers/{code}/ledger")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def close(self) -> None:
        self.till.close()


def make_merchant(
    ledger: ServedLedger,
    admin: httpx.Client,
    *,
    balance_cap: int | None = None,
    validity_days: int | None = None,
    sites: int = 2,
) -> Merchant:
    tag = uuid.uuid4().hex[:6]
    account = _ok(
        admin.post("/admin/accounts", json={"name": f"Merchant {tag}", "balance_cap": balance_cap})
    )
    account_id = account["id"]
    product = _ok(
        admin.post(
            f"/admin/accounts/{account_id}/products",
            json={"name": "Gift voucher", "validity_days": validity_days},
        )
    )
    site_ids = [
        _ok(
            admin.post(
                f"/admin/accounts/{account_id}/sites",
                json={"name": f"Site {n}", "address": f"{n} High Street", "reference": f"site-{n}"},
            )
        )["id"]
        for n in range(1, sites + 1)
    ]
    store_ids = [f"STORE-{tag}-{n}" for n in range(1, sites + 1)]
    _ok(
        admin.put(
            f"/admin/accounts/{account_id}/store-ids",
            json={
                "assignments": [
                    {"site_id": s, "store_id": t} for s, t in zip(site_ids, store_ids, strict=True)
                ]
            },
        )
    )
    user = _ok(
        admin.post(f"/admin/accounts/{account_id}/integration-users", json={"label": "Polaris"})
    )
    till = httpx.Client(base_url=ledger.url, auth=(user["username"], user["password"]), timeout=60)
    return Merchant(
        account_id=account_id,
        product_id=product["id"],
        store_ids=store_ids,
        site_ids=site_ids,
        username=user["username"],
        password=user["password"],
        till=till,
        admin=admin,
    )


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), f"{response.status_code} {response.text}"
    return response.json()
