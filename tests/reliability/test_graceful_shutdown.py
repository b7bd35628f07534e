"""Zero-downtime releases need a server that drains: `crm serve` sent SIGTERM (what Kubernetes does after the
preStop sleep, and `docker stop`) while requests are in flight still answers every one of them, then exits 0.
The requests here are slow because their clients send half the body, wait until the signal has gone, and then
send the rest."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.reliability.conftest import Shop, prepared_server, stored_orders

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

IN_FLIGHT = 6


def test_sigterm_lets_every_request_in_flight_finish(server_factory: Callable[..., Server]) -> None:
    server = prepared_server(server_factory(workers=2))
    server.start()
    with httpx.Client(base_url=server.base, timeout=30) as client:
        shop = Shop(server, client)
    body = json.dumps(
        {"customer_id": shop.customer_id, "submit": True, "lines": [{"sku": "PMP-1", "quantity": "2"}]}
    ).encode()
    half_sent = threading.Semaphore(0)
    signalled = threading.Event()
    answers: list[httpx.Response | Exception] = []

    def slow_body() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        half_sent.release()
        signalled.wait(timeout=30)
        yield body[len(body) // 2 :]

    def submit() -> None:
        headers = {**shop.headers, "Content-Type": "application/json"}
        try:
            with httpx.Client(base_url=server.base, timeout=30) as own:
                answers.append(own.post("/api/v1/orders", content=slow_body(), headers=headers))
        except Exception as exc:  # noqa: BLE001  # recorded and asserted below
            answers.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(IN_FLIGHT)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert half_sent.acquire(timeout=30)
    time.sleep(0.2)  # the halves reach the server
    assert server.process is not None
    sent_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the server has the signal while every request waits for the rest of its body
    signalled.set()
    for thread in threads:
        thread.join(timeout=30)
    exit_code = server.process.wait(timeout=30)
    drained = time.monotonic() - sent_at
    left = _group_left(server.process.pid)

    statuses = [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers]
    print(
        f"\ngraceful shutdown: {IN_FLIGHT} requests in flight at SIGTERM, answers {statuses}; exit {exit_code} "
        f"{drained:.1f} s after the signal"
    )
    assert statuses == [201] * IN_FLIGHT
    assert exit_code == 0
    assert not left, f"processes of the server still running after it exited: {left}"
    ids = {a.json()["id"] for a in answers if isinstance(a, httpx.Response)}
    assert ids <= set(stored_orders(server.data_dir / "crm.db"))


def _group_left(group: int) -> list[int]:
    """The processes still in the server's process group (its granian workers must not outlive it)."""
    deadline = time.monotonic() + 5
    while True:
        left = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _group_of(p) == group]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _group_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None
