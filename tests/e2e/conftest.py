"""A real `crm serve` in a subprocess on a free loopback port, with its own data directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.net import free_port
from tests.sms import last_code

BIN = Path(sys.executable).parent


class Server:
    def __init__(self, data_dir: Path, workers: int) -> None:
        self.data_dir = data_dir
        self.sms_file = data_dir / "sms.jsonl"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
            "CRM_DATA_DIR": str(data_dir),
            "CRM_SMS_BACKEND": f"file:{self.sms_file}",
        }
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def crm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "crm"), *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def start(self, ready_within: float = 30) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "crm"), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `kill` reaches granian's workers too
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"crm serve exited with {self.process.returncode}")
            time.sleep(0.1)
        raise RuntimeError(f"crm serve did not become ready in {ready_within:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # no worker of a test's server outlives the test
                os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the server and its worker processes at once (a node lost, an OOM kill of the pod)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def last_otp(self, mobile: str) -> str:
        return last_code(self.sms_file, mobile)

    def sign_in(self, client: httpx.Client, mobile: str) -> dict[str, str]:
        assert client.post("/api/v1/auth/otp/request", json={"mobile": mobile}).status_code == 202
        response = client.post("/api/v1/auth/otp/verify", json={"mobile": mobile, "otp": self.last_otp(mobile)})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def make(workers: int = 2) -> Server:
        server = Server(tmp_path / f"crm-data-{len(servers)}", workers)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
