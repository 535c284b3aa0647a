"""Check balance (GET /v1/vouchers/{code}) and voucher codes as tills know them."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from api.core.config import Settings
from harness.factories import Merchant
from harness.ledger_app import LedgerServer
from tests.ledger.till.contract import (
    DEFAULT_CARD_RANGE,
    VOUCHER_FIELDS,
    add_product,
    assert_ledger,
    bad_check_digit,
    created,
    dashed,
    expire,
    luhn_valid,
    ok,
    parse_time,
    problem,
    spaced,
    unknown_code,
    with_check_digit,
)


def test_balance_answers_every_field_in_each_status(merchant: Merchant, settings: Settings) -> None:
    # active
    code = merchant.sold_code(2500)
    body = ok(merchant.balance(code))
    assert body == {
        "code": code,
        "balance": 2500,
        "currency": "GBP",
        "status": "active",
        "expires_at": None,
    }
    # Any of the account's stores may check it, not only the one that sold it.
    assert ok(merchant.balance(code, store_id=merchant.store_ids[1])) == body

    # spent: balance 0
    created(merchant.redeem(code, 2500))
    body = ok(merchant.balance(code))
    assert (body["status"], body["balance"]) == ("spent", 0)
    assert_ledger(merchant, code, balance=0, kinds=["sale", "redemption"])

    # cancelled: its sale reversed
    sale = created(merchant.sell(3000))
    created(merchant.reverse(sale["code"], sale["transaction_id"]))
    body = ok(merchant.balance(sale["code"]))
    assert (body["status"], body["balance"]) == ("cancelled", 0)
    assert_ledger(merchant, sale["code"], balance=0, kinds=["sale", "reversal"])

    # expired: sold from a product with a validity, then its expiry moved into the past
    product_id = add_product(merchant, validity_days=30)
    before = datetime.now(UTC)
    sale = created(merchant.sell(4000, product_id=product_id))
    expires_at = parse_time(sale["expires_at"])
    assert (
        before + timedelta(days=30) - timedelta(seconds=5)
        <= expires_at
        <= datetime.now(UTC) + timedelta(days=30)
    )
    code = sale["code"]
    body = ok(merchant.balance(code))
    assert (body["status"], body["expires_at"]) == ("active", sale["expires_at"])

    expire(settings, code)

    body = ok(merchant.balance(code))
    assert body.keys() == VOUCHER_FIELDS
    assert body["status"] == "expired"
    assert body["balance"] == 4000  # the value is still shown; it just cannot be used
    assert parse_time(body["expires_at"]) < datetime.now(UTC)
    assert_ledger(merchant, code, balance=4000, kinds=["sale"])


def test_codes_with_spaces_and_dashes_are_accepted(merchant: Merchant) -> None:
    code = merchant.sold_code(700)
    for written in (spaced(code), dashed(code), f" {code[:6]}-{code[6:12]} {code[12:]} "):
        assert written != code
        body = ok(merchant.balance(written))
        assert body["code"] == code
        assert body["balance"] == 700
    # Writes take them too.
    movement = created(merchant.redeem(spaced(code), 200))
    assert movement["balance"] == 500
    movement = created(merchant.load(dashed(code), 100))
    assert movement["balance"] == 600
    assert_ledger(merchant, code, balance=600, kinds=["sale", "redemption", "load"])


def test_every_unusable_code_gets_the_same_404(merchant: Merchant, other: Merchant) -> None:
    code = merchant.sold_code(1000)
    theirs = other.sold_code(1000)
    assert theirs.startswith(DEFAULT_CARD_RANGE)  # same range: only the account tells them apart
    candidates = {
        "unknown": unknown_code(),
        "another account's": theirs,
        "too short": code[:-1],
        "too long": code + "0",
        "far too long": code * 3,
        "wrong range": with_check_digit("99999999" + code[8:18]),
        "bad check digit": bad_check_digit(code),
        "letters": "6301190012345abcdef",
        "non-ASCII digits": "".join(chr(0xFF10 + int(d)) for d in code),
        "punctuation": "6301190012345.67890",
    }
    writes = [
        lambda c: merchant.redeem(c, 100),
        lambda c: merchant.load(c, 100),
        lambda c: merchant.reverse(c, str(uuid.uuid4())),
    ]
    bodies = []
    # 10 codes, each on GET and one POST: 20 failed look-ups, the most one credential
    # gets answered before the throttle (tested on its own) closes.
    for n, (name, candidate) in enumerate(candidates.items()):
        for response in (merchant.balance(candidate), writes[n % 3](candidate)):
            body = problem(response, 404, "voucher_not_found")
            bodies.append((name, body))
    first = bodies[0][1]
    for name, body in bodies:
        assert body == first, f"{name}: {body} differs from {first}"
    # Nothing moved on either real voucher.
    assert_ledger(merchant, code, balance=1000, kinds=["sale"])
    assert_ledger(other, theirs, balance=1000, kinds=["sale"])


def test_generated_codes_are_card_numbers_not_a_sequence(merchant: Merchant) -> None:
    codes = [merchant.sold_code(100) for _ in range(12)]
    for code in codes:
        assert len(code) == 19
        assert code.isascii() and code.isdigit()
        assert code.startswith(DEFAULT_CARD_RANGE)
        assert luhn_valid(code)
    assert len(set(codes)) == len(codes)
    middles = [int(code[8:18]) for code in codes]
    # Consecutive sales are not neighbours, and the codes do not climb in sale order.
    for earlier, later in itertools.pairwise(middles):
        assert abs(later - earlier) > 1000, (earlier, later)
    assert middles != sorted(middles)
    assert len(set("".join(code[8:18] for code in codes))) >= 8  # digits are spread


def test_codes_follow_the_accounts_own_card_range(
    ledger: LedgerServer, admin: httpx.Client, merchant: Merchant
) -> None:
    """An account with its own card range: its codes start with it, and codes of the
    default range are not its vouchers."""
    tag = uuid.uuid4().hex[:6]
    account = admin.post(
        "/admin/accounts", json={"name": f"Ranged {tag}", "card_range": "60000123"}
    )
    assert account.status_code == 201, account.text
    account_id = account.json()["id"]
    product = admin.post(f"/admin/accounts/{account_id}/products", json={"name": "Gift"}).json()
    site = admin.post(
        f"/admin/accounts/{account_id}/sites",
        json={"name": "Only site", "address": "1 Road", "reference": "only"},
    ).json()
    store = f"RANGED-{tag}"
    assigned = admin.put(
        f"/admin/accounts/{account_id}/store-ids",
        json={"assignments": [{"site_id": site["id"], "store_id": store}]},
    )
    assert assigned.status_code == 200, assigned.text
    user = admin.post(f"/admin/accounts/{account_id}/integration-users", json={"label": "T"}).json()
    with httpx.Client(base_url=ledger.url, auth=(user["username"], user["password"])) as till:
        sale = till.post(
            "/v1/vouchers",
            json={
                "store_id": store,
                "product_id": product["id"],
                "amount": 900,
                "reference": "r1",
            },
        )
        code = created(sale)["code"]
        assert code.startswith("60000123") and len(code) == 19 and luhn_valid(code)
        assert ok(till.get(f"/v1/vouchers/{code}", params={"store_id": store}))["balance"] == 900

        default_range = merchant.sold_code(100)
        problem(
            till.get(f"/v1/vouchers/{default_range}", params={"store_id": store}),
            404,
            "voucher_not_found",
        )
