"""Real `crm worker` processes against the embedded default (SQLite in a temporary CRM_DATA_DIR) and the sandbox
ERP in its own file, which the tests open too to count what the ERP received. Orders are placed through the use
cases in this process, on the same store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.erp.sandbox import SandboxErpGateway
from adapters.system import SystemClock
from crm_domain.app import Crm
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.users import Actor
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings

BIN = Path(sys.executable).parent


class Site:
    """One CRM installation: its data dir, environment, the use cases on its store, and its sandbox ERP."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
            "CRM_DATA_DIR": str(data_dir),
            "CRM_SMS_BACKEND": f"file:{data_dir / 'sms.jsonl'}",
            "COLUMNS": "200",
        }
        self.processes: list[subprocess.Popen[str]] = []
        self._crm: Crm | None = None
        self._admin: Actor | None = None
        self._customer_id: str | None = None

    # --- the command line -----------------------------------------------------------------------------

    def crm_cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "crm"), *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start_worker(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """A `crm worker` in the background; its log (stderr) goes to a file, see `worker_log`."""
        log = self.data_dir.parent / f"worker-{len(self.processes)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [str(BIN / "crm"), "worker", *args],
                env={**self.env, **env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
            )
        self.processes.append(process)
        return process

    def worker_log(self, process: subprocess.Popen[str]) -> str:
        return (self.data_dir.parent / f"worker-{self.processes.index(process)}.log").read_text()

    def outbox_status(self) -> dict[str, Any]:
        result = self.crm_cli("outbox", "status", "--json")
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    # --- the store and the ERP, from this process -------------------------------------------------------

    @property
    def crm(self) -> Crm:
        if self._crm is None:
            self._crm = bootstrap(Settings(data_dir=self.data_dir)).crm
        return self._crm

    def erp(self) -> SandboxErpGateway:
        return SandboxErpGateway(self.data_dir / "sandbox-erp.db", SystemClock())

    def place_orders(self, count: int) -> list[Order]:
        """`count` submitted orders of one dealer (well within its limit), through the use cases."""
        crm = self.crm
        if self._admin is None:
            self._admin = crm.users.create_admin("+919000009999", "Wim Worker-Admin").actor()
            crm.catalogue.create(
                self._admin,
                NewProduct(sku="PUMP", name="Pump", unit_price=Money.of("420.00", "INR"), erp_material_id="MAT-1"),
            )
            self._customer_id = crm.customers.create(
                self._admin,
                NewCustomer(
                    code="W-RAVI",
                    name="Ravi Traders",
                    mobile="+919765400901",
                    credit_limit=Money.of("100000000.00", "INR"),
                ),
            ).customer.id
        assert self._customer_id is not None
        line = (LineRequest(sku="PUMP", quantity=Decimal(2)),)
        return [
            crm.orders.create(self._admin, NewOrder(customer_id=self._customer_id, lines=line, submit=True))
            for _ in range(count)
        ]

    def order(self, order_id: str) -> Order:
        assert self._admin is not None
        return self.crm.orders.get(self._admin, order_id)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 20 ms until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def stop_gracefully(process: subprocess.Popen[str], timeout: float = 15) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=timeout)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = Site(tmp_path / "crm-data")
    yield site
    site.stop()
