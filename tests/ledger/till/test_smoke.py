from harness.factories import Merchant


def test_sell_then_check_balance(merchant: Merchant) -> None:
    sale = merchant.sell(2500)
    assert sale.status_code == 201
    code = sale.json()["code"]
    balance = merchant.balance(code)
    assert balance.status_code == 200
    assert balance.json() == {
        "code": code,
        "balance": 2500,
        "currency": "GBP",
        "status": "active",
        "expires_at": None,
    }
