"""Order submit over HTTP vs the reference route of SPEC §10, same server, same workers, same run.

    .venv/bin/python bench/order_submit.py [--workers 2] [--connections 64] [--seconds 15] [--rounds 2]
        [--sqlite-synchronous FULL|NORMAL] [--live-balance]

Seeds a fresh embedded store (200 dealers with large limits, 50 products, a call-center agent), starts
`crm serve --workers N` with CRM_BENCH_ROUTES=true on a loopback port, signs in through the OTP flow, and runs
wrk (Debian package `wrk`) alternately against POST /api/v1/bench/reference and POST /api/v1/orders
(`submit: true`: validated, credit-checked, stored with its outbox event). Prints req/s, p50/p99 and the
ratio submit/reference per round. Loopback only; every run is bounded by --seconds.

With --live-balance the dealers belong to GenNext and the server reads each one's balance live at submit
(CRM_LIVE_BALANCE=gennext) from a GenNext peer on loopback (the tests' peer, tests/erp/gennext_peer.py): the
submit figures then include that round trip; run once with and once without to see what it costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data_dir: Path, erp: str = "sandbox") -> list[str]:
    from crm_domain.money import Money
    from crm_domain.services.catalogue import NewProduct
    from crm_domain.services.customers import NewCustomer
    from crm_domain.services.users import NewUser
    from crm_domain.users import Role
    from entrypoints.bootstrap import bootstrap
    from entrypoints.settings import Settings

    c = bootstrap(Settings(data_dir=data_dir))
    admin = c.crm.users.create_admin("+919000000001", "Bench Admin").actor()
    c.crm.users.create(
        admin, NewUser(mobile="+919000000002", name="Bench Agent", roles=frozenset({Role.CALL_CENTER_AGENT}))
    )
    for i in range(50):
        c.crm.catalogue.create(
            admin,
            NewProduct(
                sku=f"SKU-{i:03d}",
                name=f"Product {i}",
                unit_price=Money.of(Decimal(100 + i * 7), "INR"),
                tax_rate=Decimal(18),
            ),
        )
    ids = []
    for i in range(200):
        view = c.crm.customers.create(
            admin,
            NewCustomer(
                code=f"B{i:04d}",
                name=f"Bench Dealer {i}",
                mobile=f"+91910000{i:04d}",
                credit_limit=Money.of("999999999.00", "INR"),
                erp_system=erp,
            ),
        )
        ids.append(view.customer.id)
    return ids


def live_balance_peer(dealers: int) -> tuple[dict[str, str], Any]:
    """A GenNext peer on loopback holding a small balance for every bench dealer, and the server's settings."""
    sys.path.insert(0, str(ROOT))
    from tests.erp.gennext_peer import GenNextPeer

    class CountingPeer(GenNextPeer):
        balance_reads = 0

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
            if path.endswith("/balance"):
                CountingPeer.balance_reads += 1
            return super()._route(method, path, query, body)

    peer = CountingPeer()
    for i in range(dealers):
        peer.set_balance(f"B{i:04d}", "1000.00")
    peer.start()
    env = {
        "CRM_GENNEXT_URL": peer.base_url,
        "CRM_GENNEXT_API_KEY": peer.api_key,
        "CRM_LIVE_BALANCE": "gennext",
    }
    return env, peer


LUA = """
local ids = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"customer_id":"' .. ids[(n %% #ids) + 1] .. '","submit":true,"lines":[' ..
    '{"sku":"SKU-001","quantity":"2"},{"sku":"SKU-017","quantity":"1.5","discount_pct":"5"},' ..
    '{"sku":"SKU-042","quantity":"10"}]}'
  return wrk.format("POST", nil, nil, body)
end
"""


def wrk(url: str, token: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Content-Type: application/json",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": float(non2xx.group(1)) if non2xx else 0.0}


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the server and its workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(url: str, token: str, script: Path, args: argparse.Namespace, pids: list[int]) -> dict[str, float]:
    """wrk's figures plus the server's CPU time per request (less sensitive to a busy machine than req/s)."""
    before, started = cpu_seconds(pids), time.monotonic()
    figures = wrk(url, token, script, args.connections, args.seconds)
    used, elapsed = cpu_seconds(pids) - before, time.monotonic() - started
    figures["cpu_ms"] = used / (figures["rps"] * elapsed) * 1000
    figures["cores"] = used / elapsed
    return figures


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run stops its server too (finally)
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--api-rate", type=int, default=1_000_000_000, help="CRM_API_RATE of the server")
    parser.add_argument("--live-balance", action="store_true", help="read each dealer's balance live from a peer")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="CRM_SQLITE_SYNCHRONOUS of the server (FULL: durable on power loss, the default)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    data_dir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    ids = seed(data_dir, "gennext" if args.live_balance else "sandbox")
    live_env, peer = live_balance_peer(len(ids)) if args.live_balance else ({}, None)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        "CRM_DATA_DIR": str(data_dir),
        "CRM_SMS_BACKEND": f"file:{data_dir / 'sms.jsonl'}",
        "CRM_BENCH_ROUTES": "true",
        # One user at thousands of requests a second: the limiter runs on every request (its cost is measured)
        # but must not refuse.
        "CRM_API_RATE": str(args.api_rate),
        **live_env,
        "CRM_SQLITE_SYNCHRONOUS": args.sqlite_synchronous,
    }
    server = subprocess.Popen(
        [str(BIN / "crm"), "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.post(f"{base}/api/v1/auth/otp/request", json={"mobile": "+919000000002"}).raise_for_status()
        code = json.loads((data_dir / "sms.jsonl").read_text().splitlines()[-1])["text"][:6]
        token = httpx.post(f"{base}/api/v1/auth/otp/verify", json={"mobile": "+919000000002", "otp": code}).json()[
            "access_token"
        ]
        script = data_dir / "order.lua"
        script.write_text(LUA % ",".join(f'"{i}"' for i in ids))
        wrk(f"{base}/api/v1/bench/reference", token, script, args.connections, 3)  # warm-up
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"workers={args.workers} connections={args.connections} seconds={args.seconds}"
            f" live_balance={'gennext peer on loopback' if args.live_balance else 'off'}"
            f" sqlite_synchronous={args.sqlite_synchronous}"
        )
        wrk(f"{base}/api/v1/orders", token, script, args.connections, 3)  # warm-up
        pids = process_tree(server.pid)
        for round_no in range(1, args.rounds + 1):
            ref = measured(f"{base}/api/v1/bench/reference", token, script, args, pids)
            sub = measured(f"{base}/api/v1/orders", token, script, args, pids)
            print(
                f"round {round_no}: reference {ref['rps']:.0f} req/s p50 {ref['p50']:.1f} ms p99 {ref['p99']:.1f} ms"
                f" (non-2xx {ref['errors']:.0f}) | submit {sub['rps']:.0f} req/s p50 {sub['p50']:.1f} ms"
                f" p99 {sub['p99']:.1f} ms (non-2xx {sub['errors']:.0f}) | ratio {sub['rps'] / ref['rps']:.2f}"
            )
            print(
                f"         server CPU per request: reference {ref['cpu_ms']:.2f} ms ({ref['cores']:.2f} cores busy),"
                f" submit {sub['cpu_ms']:.2f} ms ({sub['cores']:.2f} cores busy)"
                f" | CPU ratio reference/submit {ref['cpu_ms'] / sub['cpu_ms']:.2f}"
            )
        if peer is not None:
            print(f"         live balance reads answered by the peer: {peer.balance_reads}")
    finally:
        server.terminate()
        server.wait(timeout=20)
        if peer is not None:
            peer.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
