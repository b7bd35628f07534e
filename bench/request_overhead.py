"""Server CPU per HTTP request, in process: the Litestar app driven directly over ASGI, no socket, no server.

    .venv/bin/python bench/request_overhead.py [--requests 3000] [--rounds 3] [--profile ROUTE] [--top 40]

Seeds a fresh embedded store (SQLite in a temporary directory, as `crm serve` uses it; 50 products, 200 dealers,
a call-center agent), builds the app as `crm serve` does (`create_app`, CRM_BENCH_ROUTES=true, a rate limit that
never refuses), runs its lifespan, signs the agent in through the OTP flow, places 40 orders, then calls each
route `--requests` times one after the other by hand-made ASGI messages (the client costs next to nothing) and
measures `time.process_time()` (CPU of every thread of the process: the event loop and the handlers' threads)
around each call. Metric samples go to files (`PROMETHEUS_MULTIPROC_DIR`), as under `crm serve`; log lines are
written, in JSON, to /dev/null: formatting them is part of the cost.

Routes: `health` (GET /health/live: the middleware stack and no handler work), `reference` (POST
/api/v1/bench/reference: JWT, body validation, totals), `products` (GET /api/v1/products, answered from the
response cache), `orders` (GET /api/v1/orders?limit=20 from SQLite), `orders_304` (the 20 orders of one dealer,
with the ETag of their last answer: a 304), `submit` (POST /api/v1/orders, stored; its fsync waits are not CPU and
are not counted). Prints the median and mean CPU µs per request of each route per round (rounds alternate the
routes). The figures are of one process on one core: compare runs made one after the other on the same machine.

`--profile ROUTE` runs that route `--requests` times under cProfile instead (the work handed to threads runs
inline, so the profile sees it) and prints the `--top` functions by cumulative and by own time. Run it from the
repository root. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from order_submit import seed  # noqa: E402  # the same users, 50 products and 200 dealers as the HTTP bench

ORDER = {
    "submit": True,
    "lines": [
        {"sku": "SKU-001", "quantity": "2"},
        {"sku": "SKU-017", "quantity": "1.5", "discount_pct": "5"},
        {"sku": "SKU-042", "quantity": "10"},
    ],
}


class Answer:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = b""


async def call(
    app: Any, method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: bytes = b""
) -> Answer:
    """One request straight through the ASGI app, as granian would pass it."""
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw += [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if body:
        raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    answer = Answer()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = dict(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(scope, receive, send)
    return answer


Request = Callable[[], Any]


async def sign_in(app: Any, data_dir: Path) -> dict[str, str]:
    """The agent signed in through the OTP flow: the Authorization header."""
    mobile = "+919000000002"
    answer = await call(app, "POST", "/api/v1/auth/otp/request", body=json.dumps({"mobile": mobile}).encode())
    assert answer.status == 202, answer.body
    code = json.loads((data_dir / "sms.jsonl").read_text().splitlines()[-1])["text"][:6]
    answer = await call(
        app, "POST", "/api/v1/auth/otp/verify", body=json.dumps({"mobile": mobile, "otp": code}).encode()
    )
    assert answer.status == 200, answer.body
    return {"Authorization": f"Bearer {json.loads(answer.body)['access_token']}"}


async def place_orders(app: Any, auth: dict[str, str], ids: list[str]) -> None:
    """40 orders spread over the dealers, and 20 of the last dealer (the `orders_304` list, never added to)."""
    for i in range(60):
        body = json.dumps({**ORDER, "customer_id": ids[i % (len(ids) - 1)] if i < 40 else ids[-1]}).encode()
        assert (await call(app, "POST", "/api/v1/orders", headers=auth, body=body)).status == 201


async def routes(app: Any, auth: dict[str, str], ids: list[str]) -> dict[str, Request]:
    order = json.dumps({**ORDER, "customer_id": ids[0]}).encode()
    counter = iter(range(10**9))

    def submit() -> Any:  # the last dealer's orders stay as they are (for the 304)
        body = json.dumps({**ORDER, "customer_id": ids[next(counter) % (len(ids) - 1)]}).encode()
        return call(app, "POST", "/api/v1/orders", headers=auth, body=body)

    own = f"limit=20&customer_id={ids[-1]}"
    listed = await call(app, "GET", "/api/v1/orders", own, auth)
    assert listed.status == 200, listed.body
    etag = listed.headers.get(b"etag", b"").decode()
    return {
        "health": lambda: call(app, "GET", "/health/live"),
        "reference": lambda: call(app, "POST", "/api/v1/bench/reference", headers=auth, body=order),
        "products": lambda: call(app, "GET", "/api/v1/products", headers=auth),
        "orders": lambda: call(app, "GET", "/api/v1/orders", "limit=20", auth),
        "orders_304": lambda: call(app, "GET", "/api/v1/orders", own, {**auth, "If-None-Match": etag}),
        "submit": submit,
    }


EXPECTED = {"health": 200, "reference": 200, "products": 200, "orders": 200, "orders_304": 304, "submit": 201}


class Inline(concurrent.futures.ThreadPoolExecutor):
    """An executor that runs the call at once in the calling thread (profiles see only their own thread)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            future.set_exception(exc)
        return future


async def timed(request: Request, n: int, expected: int) -> list[float]:
    cpu = []
    for _ in range(n):
        started = time.process_time()
        answer = await request()
        cpu.append(time.process_time() - started)
        if answer.status != expected:
            raise SystemExit(f"{answer.status} instead of {expected}: {answer.body[:300]!r}")
    return cpu


async def run(args: argparse.Namespace) -> None:
    from entrypoints.bootstrap import bootstrap
    from entrypoints.http.app import create_app
    from entrypoints.settings import Settings

    with tempfile.TemporaryDirectory(prefix="crm-bench-overhead-") as tmp:
        data_dir = Path(tmp)
        ids = seed(data_dir)
        settings = Settings(
            data_dir=data_dir,
            sms_backend=f"file:{data_dir / 'sms.jsonl'}",
            bench_routes=True,
            api_rate=1_000_000_000,
            anon_api_rate=1_000_000_000,
        )
        stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - the log lines' stream
        try:
            app = create_app(bootstrap(settings))
        finally:
            sys.stderr = stderr
        async with app.lifespan():
            auth = await sign_in(app, data_dir)
            await place_orders(app, auth, ids)
            table = await routes(app, auth, ids)
            chosen = [args.profile] if args.profile else list(table)
            for name in chosen:  # warm-up: caches, the catalogue, first-use work
                await timed(table[name], 200, EXPECTED[name])
            if args.profile:
                # The handlers' thread hops run inline, so their work shows in the profile (of this thread only).
                asyncio.get_running_loop().set_default_executor(Inline())
                profiler = cProfile.Profile()
                profiler.enable()
                await timed(table[args.profile], args.requests, EXPECTED[args.profile])
                profiler.disable()
                for key in ("cumulative", "tottime"):
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
                    print(f"--- {args.profile}: {args.requests} requests, by {key}")
                    print(out.getvalue())
                return
            print(
                f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, "
                f"load average {os.getloadavg()[0]:.2f}; {args.requests} requests a route a round"
            )
            for round_no in range(1, args.rounds + 1):
                cells = []
                for name in chosen:
                    cpu = await timed(table[name], args.requests, EXPECTED[name])
                    cells.append(f"{name} {statistics.median(cpu) * 1e6:.0f}/{statistics.fmean(cpu) * 1e6:.0f}")
                print(f"round {round_no} (CPU µs per request, median/mean): " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(EXPECTED), default=None)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-metrics-") as metrics:
        # As `crm serve` runs the app: metric samples in files shared by the workers (set before the import).
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics)
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
