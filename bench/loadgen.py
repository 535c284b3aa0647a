"""A small HTTP/1.1 load generator, for machines without wrk: N keep-alive connections
on one asyncio loop, in its own process, each sending the next request as soon as the
last answer is in (what wrk does). It prints the same ``BENCH_JSON`` line as
``wrk/till.lua``.

    python -m bench.loadgen URL KIND CODES_FILE STORE_ID PRODUCT_ID AMOUNT REF_PREFIX AUTH \
        --connections 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.result_line import result_line


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    socket_errors: int = 0


@dataclass(frozen=True)
class Spec:
    host: str
    port: int
    kind: str
    codes: list[str]
    store: str
    product: str
    amount: str
    prefix: str
    auth: str


def request_bytes(spec: Spec, worker: int, counter: int) -> bytes:
    code = random.choice(spec.codes)
    head = f"Host: {spec.host}:{spec.port}\r\nAuthorization: {spec.auth}\r\n"
    if spec.kind == "balance":
        return f"GET /v1/vouchers/{code}?store_id={spec.store} HTTP/1.1\r\n{head}\r\n".encode()
    reference = f"{spec.prefix}-{worker}-{counter}"
    if spec.kind == "redeem":
        path = f"/v1/vouchers/{code}/redeem"
        body = f'{{"store_id":"{spec.store}","amount":{spec.amount},"reference":"{reference}"}}'
    else:
        path = "/v1/vouchers"
        body = (
            f'{{"store_id":"{spec.store}","product_id":{spec.product},'
            f'"amount":{spec.amount},"reference":"{reference}"}}'
        )
    return (
        f"POST {path} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> str:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)[1]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def worker(spec: Spec, number: int, deadline: float, tally: Tally) -> None:
    counter = 0
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(spec.host, spec.port)
        except OSError:
            tally.socket_errors += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while time.perf_counter() < deadline:
                counter += 1
                started = time.perf_counter()
                writer.write(request_bytes(spec, number, counter))
                status = await asyncio.wait_for(read_response(reader), timeout=10)
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                tally.statuses[status] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            tally.socket_errors += 1
        finally:
            writer.close()


async def run(spec: Spec, connections: int, duration: float) -> dict[str, object]:
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(worker(spec, n, deadline, tally) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies_ms) or [0.0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    return {
        "requests": len(tally.latencies_ms),
        "duration_s": elapsed,
        "p50_ms": cuts[49] if cuts else latencies[0],
        "p99_ms": cuts[98] if cuts else latencies[0],
        "max_ms": latencies[-1],
        "socket_errors": tally.socket_errors,
        "statuses": dict(tally.statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("url", "kind", "codes_file", "store", "product", "amount", "prefix", "auth"):
        parser.add_argument(name)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    address = urlsplit(args.url)
    with open(args.codes_file) as fh:
        codes = [line.strip() for line in fh if line.strip()]
    spec = Spec(
        host=address.hostname or "127.0.0.1",
        port=address.port or 80,
        kind=args.kind,
        codes=codes,
        store=args.store,
        product=args.product,
        amount=args.amount,
        prefix=args.prefix,
        auth=args.auth,
    )
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec, args.connections, args.duration))
    else:
        result = uvloop.run(run(spec, args.connections, args.duration))
    print(result_line(result), flush=True)


if __name__ == "__main__":
    main()
