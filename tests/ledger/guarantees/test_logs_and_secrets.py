"""Nothing a till sends is logged whole, and the integration user's password is kept
nowhere (till-api.md "Guarantees"; design.md "Secrets").

* The real server (`ledger serve`, uvicorn with its access log) in a subprocess: its
  whole output is searched for every voucher code sent, in every spelling, and for the
  passwords; the codes' last four digits must be there (the access log still logs).
* The in-thread server under pytest's caplog: the same, on every captured record.
* The database: every table's text, and for SQLite the database files themselves, hold
  only a SHA-256 digest of the password, never the password.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url

from api.core.config import Settings
from api.vouchers import cards
from harness.constants import ADMIN_TOKEN
from harness.factories import Merchant, make_merchant
from harness.ledger_app import serve_ledger
from harness.processes import free_port

LEDGER = Path(sys.executable).with_name("ledger")  # the `ledger` console script
WRONG_PASSWORD = "Wr0ng-" + uuid.uuid4().hex  # distinctive, so that any trace of it shows


def spellings(code: str) -> list[str]:
    """A code as tills may send it: plain, in groups with spaces, with dashes, mixed."""
    groups = [code[i : i + 4] for i in range(0, len(code), 4)]
    return [
        code,
        " ".join(groups),
        "-".join(groups),
        f"{code[:6]} {code[6:12]}-{code[12:]}",
    ]


def malformed_codes(code: str) -> list[str]:
    """Codes that are refused without a look-up, and must not be logged whole either."""
    wrong_check = code[:-1] + str((int(code[-1]) + 1) % 10)
    wrong_range = "9" + code[1:-1]
    wrong_range += cards.luhn_check_digit(wrong_range)
    return [
        wrong_check,
        " ".join([wrong_check[:8], wrong_check[8:]]),
        wrong_range,
        code[:-1],  # 18 digits
        code + "4",  # 20 digits
        "-".join([code[:10], code[10:]]) + "7",
    ]


@dataclass
class TillTraffic:
    """What was sent: the voucher sold, every full code (normalised), the passwords."""

    sold: str
    codes: set[str]
    passwords: set[str]
    basic_headers: set[str]


def drive_till(
    base_url: str, username: str, password: str, store_id: str, product_id: int
) -> TillTraffic:
    """Sell, check, redeem, top up and reverse with codes in every spelling, send
    malformed codes, and try a wrong password. Returns what must never be logged."""
    codes: set[str] = set()
    with httpx.Client(base_url=base_url, auth=(username, password), timeout=30) as till:
        sale = till.post(
            "/v1/vouchers",
            json={
                "store_id": store_id,
                "product_id": product_id,
                "amount": 5_000,
                "reference": f"log-sale-{uuid.uuid4().hex[:8]}",
            },
        )
        assert sale.status_code == 201, sale.text
        code = sale.json()["code"]
        codes.add(code)
        for n, spelled in enumerate(spellings(code)):
            balance = till.get(f"/v1/vouchers/{spelled}", params={"store_id": store_id})
            assert balance.status_code == 200, (spelled, balance.text)
            redeem = till.post(
                f"/v1/vouchers/{spelled}/redeem",
                json={"store_id": store_id, "amount": 100, "reference": f"log-r-{n}-{code[-4:]}"},
            )
            assert redeem.status_code == 201, (spelled, redeem.text)
            load = till.post(
                f"/v1/vouchers/{spelled}/load",
                json={"store_id": store_id, "amount": 50, "reference": f"log-l-{n}-{code[-4:]}"},
            )
            assert load.status_code == 201, (spelled, load.text)
            reverse = till.post(
                f"/v1/vouchers/{spelled}/reverse",
                json={
                    "store_id": store_id,
                    "transaction_id": redeem.json()["transaction_id"],
                    "reference": f"log-v-{n}-{code[-4:]}",
                },
            )
            assert reverse.status_code == 201, (spelled, reverse.text)
        # A code that would be refused by the ledger's rules (insufficient funds) ...
        refused = till.post(
            f"/v1/vouchers/{code}/redeem",
            json={"store_id": store_id, "amount": 99_999, "reference": "log-too-much"},
        )
        assert refused.status_code == 409, refused.text
        # ... and a malformed body naming the code where a number belongs.
        malformed_body = till.post(
            f"/v1/vouchers/{code}/redeem",
            json={"store_id": store_id, "amount": code, "reference": "log-bad-body"},
        )
        assert malformed_body.status_code == 422, malformed_body.text
        for bad in malformed_codes(code):
            codes.add(cards.normalize(bad))
            response = till.get(f"/v1/vouchers/{bad}", params={"store_id": store_id})
            assert response.status_code == 404, (bad, response.text)
    with httpx.Client(base_url=base_url, auth=(username, WRONG_PASSWORD), timeout=30) as wrong:
        response = wrong.get(f"/v1/vouchers/{code}", params={"store_id": store_id})
        assert response.status_code == 401, response.text
    return TillTraffic(
        sold=code,
        codes=codes,
        passwords={password, WRONG_PASSWORD},
        basic_headers={
            base64.b64encode(f"{username}:{p}".encode()).decode()
            for p in (password, WRONG_PASSWORD)
        },
    )


def assert_nothing_leaked(text: str, traffic: TillTraffic) -> None:
    # Separators dropped, so that a code logged in any spelling shows as its digits.
    squeezed = re.sub(r"%20| |-", "", text)
    for code in traffic.codes:
        assert code not in squeezed, f"a full voucher code ({code[-4:]}) was logged"
    for secret in traffic.passwords | traffic.basic_headers:
        assert secret not in text, "a password was logged"
    # The access log still logs the calls, with the code's last four digits.
    assert f"…{traffic.sold[-4:]}" in text


# -- the real server in a subprocess -------------------------------------------------


@pytest.fixture
def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATABASE_URL=database_url,
        LEDGER_ADMIN_TOKEN=ADMIN_TOKEN,
        LEDGER_ARGON2_TIME_COST="1",
        LEDGER_ARGON2_MEMORY_COST_KIB="1024",
    )
    return env


@dataclass
class ServedLedger:
    url: str
    output: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.output.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def served(server_env: dict[str, str], tmp_path: Path) -> Iterator[ServedLedger]:
    port = free_port()
    output = tmp_path / "ledger-serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(LEDGER), "serve", "--port", str(port)],
            env=server_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = ServedLedger(url=f"http://127.0.0.1:{port}", output=output, process=process)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, output.read_text()
            try:
                if httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "ledger serve did not start"
            time.sleep(0.1)
        yield served
    finally:
        served.stop()


def test_server_output_has_no_codes_or_passwords(
    served: ServedLedger, server_env: dict[str, str], database_url: str
) -> None:
    seeded = subprocess.run(
        [str(LEDGER), "seed-demo"], env=server_env, capture_output=True, text=True, check=True
    )
    demo = json.loads(seeded.stdout)
    store_id = demo["stores"][0]["store_id"]

    traffic = drive_till(
        served.url, demo["username"], demo["password"], store_id, demo["product_id"]
    )
    # Then the database fails under a till call: the error is logged with its traceback
    # and the failing SQL, which must not carry the card number whole either.
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE vouchers RENAME TO vouchers_away")
        with httpx.Client(auth=(demo["username"], demo["password"]), timeout=30) as till:
            failed = till.get(
                f"{served.url}/v1/vouchers/{traffic.sold}", params={"store_id": store_id}
            )
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE vouchers_away RENAME TO vouchers")
    finally:
        engine.dispose()
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"

    text = served.stop()
    assert '"GET /v1/vouchers/' in text, text[-2000:]  # the access log was on
    # The error was logged with its SQL, through the ledger's masked handler (uvicorn's
    # format), not Python's last-resort handler.
    assert re.search(r"ERROR: +unexpected error", text), text[-3000:]
    assert re.search(r"(FROM|JOIN) vouchers", text), text[-3000:]  # the failing SQL
    assert_nothing_leaked(text, traffic)


# -- the in-thread server, under caplog ------------------------------------------------


def test_captured_log_records_have_no_codes_or_passwords(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another test in this worker may have run Prefect, whose logging set-up disables
    # loggers configured before it and stops uvicorn's from propagating; undo that so
    # the ledger's records reach caplog as they would in a fresh process.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "api", "sqlalchemy.engine"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "disabled", False)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "level", logging.NOTSET)
    logging.getLogger().manager._clear_cache()  # effective levels are cached per logger
    caplog.set_level(logging.DEBUG)
    # SQL statements with their parameters too, as an operator chasing a problem might.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with (
        serve_ledger(settings) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as admin,
    ):
        merchant = make_merchant(server, admin)
        try:
            traffic = drive_till(
                server.url,
                merchant.username,
                merchant.password,
                merchant.store,
                merchant.product_id,
            )
        finally:
            merchant.close()

    # The test's own HTTP client (httpx, httpcore) logs the URLs it calls, in this same
    # process; those records are the till's side, not the ledger's, and are left out.
    ledger_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name == "uvicorn.access" for r in ledger_side), "no access log captured"
    assert any(r.name.startswith("sqlalchemy") for r in ledger_side), "no SQL log captured"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(record) for record in ledger_side)
    assert_nothing_leaked(text, traffic)


# -- the database ----------------------------------------------------------------------


def test_password_is_stored_only_as_a_sha256_digest(database_url: str, merchant: Merchant) -> None:
    # Use the credential, and fail with it, so that every path that touches it has run.
    code = merchant.sold_code(1_000)
    assert merchant.balance(code).status_code == 200
    with httpx.Client(
        base_url=str(merchant.till.base_url), auth=(merchant.username, WRONG_PASSWORD)
    ) as wrong:
        assert (
            wrong.get(f"/v1/vouchers/{code}", params={"store_id": merchant.store}).status_code
            == 401
        )

    dump = dump_database(database_url)
    assert merchant.password not in dump
    assert WRONG_PASSWORD not in dump
    assert base64.b64encode(merchant.password.encode()).decode() not in dump

    hashes = stored_hashes(database_url, merchant.username)
    assert len(hashes) == 1
    assert hashes[0] == "sha256$" + hashlib.sha256(merchant.password.encode()).hexdigest()

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # The files themselves, write-ahead log included.
        database = Path(str(url.database))
        for path in [database, *database.parent.glob(database.name + "-*")]:
            raw = path.read_bytes()
            assert merchant.password.encode() not in raw, path.name


def dump_database(database_url: str) -> str:
    """Every row of every table, as text."""
    engine = create_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        assert "integration_users" in metadata.tables
        lines: list[str] = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    lines.append(f"{table.name}: {tuple(row)!r} {' '.join(map(str, row))}")
        return "\n".join(lines)
    finally:
        engine.dispose()


def stored_hashes(database_url: str, username: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine, only=["integration_users"])
        users = metadata.tables["integration_users"]
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    select(users.c.password_hash).where(users.c.username == username)
                )
            )
    finally:
        engine.dispose()
