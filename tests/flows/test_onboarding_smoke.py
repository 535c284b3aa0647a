from pathlib import Path

import httpx

from tests.support.prefect_env import FlowRunner, start_onboarding, wait_for_state


def test_onboarding_reaches_store_id_wait(flows_runner: FlowRunner, admin: httpx.Client, outbox: Path) -> None:
    account = admin.post("/admin/accounts", json={"name": "The Crown Group"}).json()
    admin.post(f"/admin/accounts/{account['id']}/products", json={"name": "Gift voucher"})
    run_id = start_onboarding(
        {
            "account_id": account["id"],
            "polaris": {"name": "Pat Polaris", "email": "pat@polaris.example", "mobile": "+447700900123"},
            "sites": [{"name": "The Crown", "address": "1 High St", "reference": "crown-1"}],
        }
    )
    run = wait_for_state(run_id, "PAUSED", timeout=90)
    print(run.state)
    print(sorted(p.name for p in outbox.iterdir()))
    print(flows_runner.log_text()[-3000:])
