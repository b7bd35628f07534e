"""Server time per web page on the demo data (SPEC §12, issue 16: p50 under 100 ms for every page).

    .venv/bin/python bench/pages.py [--requests 40] [--workers 2] [--months 4] [--orders-per-month 90]

Seeds a fresh data directory with `crm demo seed`, starts `crm serve --workers N` on a loopback port, signs in one
person of each role through the sign-in pages, and fetches each of their pages `--requests` times one after the
other on one keep-alive connection (so the time is the server's, plus a loopback round trip). Prints p50 and p90
per page and whether every p50 is under 100 ms. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.net import free_port  # noqa: E402

TARGET_MS = 100.0


def last_code(sms_file: Path, mobile: str) -> str:
    for line in reversed(sms_file.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == mobile:
            return str(message["text"][:6])
    raise SystemExit(f"no SMS to {mobile}")


def sign_in(base: str, sms_file: Path, mobile: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token is not None
    form = {"csrf_token": token.group(1), "mobile": mobile, "next": "/home"}
    client.post("/sign-in", data=form)
    answer = client.post("/sign-in/verify", data={**form, "code": last_code(sms_file, mobile)})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in of {mobile} failed: {answer.status_code}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--orders-per-month", type=int, default=90)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm-bench-pages-") as tmp:
        data = Path(tmp)
        sms = data / "sms.jsonl"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
            "CRM_DATA_DIR": str(data),
            "CRM_SMS_BACKEND": f"file:{sms}",
            "CRM_API_RATE": "1000000",
            "CRM_ANON_API_RATE": "1000000",
        }
        crm = str(BIN / "crm")
        seeded = subprocess.run(
            [crm, "demo", "seed", "--months", str(args.months), "--orders-per-month", str(args.orders_per_month)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if seeded.returncode != 0:
            raise SystemExit(seeded.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [crm, "serve", "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("crm serve did not start")
                time.sleep(0.1)
            run(base, sms, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=15)


def run(base: str, sms: Path, requests: int) -> None:
    admin = sign_in(base, sms, "+919000000001")
    people = admin.get("/admin/users").text
    rows = re.findall(r"<td>([^<]+)</td><td>(\+91\d+)</td><td>([^<]+)</td>", people)

    def first(role: str) -> str:
        return next(mobile for _name, mobile, roles in rows if role.replace("_", " ") in roles)

    some_order = re.search(r'href="(/orders/[0-9A-Z]{26})"', admin.get("/orders").text)
    some_dealer = re.search(r'href="(/dealers/[0-9A-Z]{26})"', admin.get("/dealers").text)
    if some_order is None or some_dealer is None:
        raise SystemExit("the demo data has no order or no dealer")
    dealer_id = some_dealer.group(1).rsplit("/", 1)[1]
    card = f"/call-center/dealers/{dealer_id}"
    repeat = re.search(r'href="(/call-center/dealers/[0-9A-Z]{26}/order\?repeat=[0-9A-Z]{26})"', admin.get(card).text)
    since = (datetime.date.today() - datetime.timedelta(days=120)).isoformat()  # the whole demo: 4 months
    plan = {
        "call_center_agent": [
            "/call-center/",
            "/call-center/search?q=9100000",
            "/call-center/search?q=irrigation",
            card,
            repeat.group(1) if repeat else f"{card}/order",
            f"{card}/call",
        ],
        "sales_rep": [
            "/home",
            "/dealers",
            "/orders",
            "/orders/new",
            "/performance",
            "/reports/sales?group_by=customer",
        ],
        "sales_manager": [
            "/team",
            "/team/leaderboard",
            "/reports",
            "/reports/sales",
            f"/reports/sales?group_by=day&from={since}",
            "/reports/sales?group_by=product",
            "/reports/sales.csv?group_by=customer",
        ],
        "credit_controller": ["/credit/holds", "/credit/requests", "/reports/credit-exposure", "/reports/credit-holds"],
        "dealer": ["/orders", "/my-credit", "/orders/new", "/my-statement"],
        "admin": [
            "/admin/users",
            "/admin/customers",
            "/admin/products",
            "/admin/targets",
            "/admin/imports",
            some_order.group(1),
            some_dealer.group(1),
            f"{some_dealer.group(1)}/statement",
            "/reports/sales?group_by=territory",
            "/reports/credit-exposure.xlsx",
        ],
    }
    print(f"{'role':<18} {'page':<42} {'p50 ms':>8} {'p90 ms':>8}")
    worst = 0.0
    for role, paths in plan.items():
        client = admin if role == "admin" else sign_in(base, sms, first(role))
        for path in paths:
            client.get(path)  # warm up
            times = []
            for _ in range(requests):
                start = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                if answer.status_code != 200:
                    raise SystemExit(f"{role} {path}: {answer.status_code}")
            p50 = statistics.median(times)
            p90 = statistics.quantiles(times, n=10)[-1]
            worst = max(worst, p50)
            label = re.sub(r"[0-9A-Z]{26}", "{id}", path)
            print(f"{role:<18} {label:<42} {p50:8.1f} {p90:8.1f}")
    print(f"slowest p50: {worst:.1f} ms — {'within' if worst < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
