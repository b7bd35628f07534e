"""What the composition root offers the entry points besides the use cases: small ports, typed here so that the
HTTP app and the CLI never import an adapter (import-linter holds it). `bootstrap.py` chooses what stands behind
each one for the configured store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import attrs

from crm_domain.erp import ErpBalance, ErpCustomer, ErpOrderAck, ErpOrderRequest, ErpOrderStatus, ErpProduct
from crm_domain.money import Money
from crm_domain.ports import Clock
from crm_domain.services.context import Write

T = TypeVar("T")


class Writes(Protocol):
    """How a handler runs a use case split into reads and a write (`Write`, e.g. `OrderService.plan_create`):
    on the embedded SQLite store the reads inline and the write batched on the event loop (group commit,
    decision 0009); on any other store the whole use case in a worker thread, since it may wait on the network."""

    async def perform(self, plan: Callable[[], T | Write[T]]) -> T:
        """Run `plan` (the reads; it returns the answer, or the `Write` still to run) and then its write."""
        ...


class SandboxErpDriver(Protocol):
    """The sandbox ERP driven by hand (`crm erp sandbox …`): what a real ERP's users would do to an order or
    a customer's account, each answering the ERP's new view of it."""

    def find_by_external_ref(self, external_ref: str) -> ErpOrderStatus | None:
        """The sandbox's order for our order id, if it has received one."""
        ...

    def dispatch(self, erp_order_id: str) -> ErpOrderStatus:
        """Dispatch the order."""
        ...

    def invoice(self, erp_order_id: str) -> ErpOrderStatus:
        """Invoice the (dispatched) order: its amount becomes receivables."""
        ...

    def deliver(self, erp_order_id: str) -> ErpOrderStatus:
        """Deliver the (invoiced) order."""
        ...

    def pay(self, customer_code: str, amount: Money) -> ErpBalance:
        """Record a payment from the customer."""
        ...

    def set_overdue(self, customer_code: str, days: int) -> ErpBalance:
        """Set the age of the customer's oldest overdue item."""
        ...

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        """Receive an order, as the worker sends it (de-duplicated by our order id)."""
        ...

    def put_customers(self, customers: list[ErpCustomer]) -> None:
        """Put customers into the ERP's customer master."""
        ...

    def put_products(self, products: list[ErpProduct]) -> None:
        """Put products into the ERP's catalogue."""
        ...

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> ErpBalance:
        """Set the customer's receivables and overdue days outright (an account with a history before ours)."""
        ...


@attrs.frozen(kw_only=True)
class Preparation:
    """What preparing the store did, for the operator: a one-line summary, and a line per item when there are
    items (MongoDB's index names); the schema version after it, for stores that have one (SQLite)."""

    summary: str
    items: tuple[str, ...] = ()
    schema_version: int | None = None


@attrs.frozen(kw_only=True)
class Recovery:
    """What a recovery sweep did: half-done commits it completed, and those it rolled back."""

    completed: int = 0
    rolled_back: int = 0


@attrs.frozen(kw_only=True)
class StoreCopy:
    """What a backup or restore wrote, for the operator: a one-line summary and a line per table counted."""

    summary: str
    items: tuple[str, ...] = ()


class MaintenanceRefused(Exception):
    """A backup or restore refused (a target that exists, a store in use, a file that is not a crm database of
    a schema this build runs, or a store whose own tools do it): the message says why and what to do."""


class StoreMaintenance(Protocol):
    """Preparing and repairing the configured store (`crm db init`, the worker's housekeeping sweep)."""

    def prepare(self) -> Preparation:
        """Bring the store up to date: SQLite schema migrations, MongoDB indexes; safe to run again."""
        ...

    def check(self) -> None:
        """Raise, with a one-line reason, when the store cannot serve: MongoDB on a standalone server (no
        transactions) or without the indexes of `crm db init` (decision 0012)."""
        ...

    def recover(self) -> Recovery:
        """Finish or roll back the commits a crashed process left half done; every store commits atomically
        today (MongoDB in transactions, decision 0012), so there is nothing to recover."""
        ...

    def backup(self, target: Path, *, force: bool = False) -> StoreCopy:
        """Copy the store to `target` while processes keep using it; refuses to overwrite unless `force`."""
        ...

    def restore(self, source: Path) -> StoreCopy:
        """Replace the store with the backup `source`, keeping the replaced one; refuses while it is in use."""
        ...

    def close(self) -> None:
        """Let go of the connections of a store opened for maintenance alone."""
        ...


class SettableClock(Clock, Protocol):
    """A clock that stands still until set (the demo data walks one through the past months)."""

    def set(self, at: datetime) -> None:
        """Move the clock to `at`."""
        ...


class Clocks(Protocol):
    """The clocks the demo needs: the wall clock, and a settable one to build history with."""

    def system(self) -> Clock:
        """The wall clock (UTC)."""
        ...

    def settable(self) -> SettableClock:
        """A new clock standing at a fixed instant until it is set."""
        ...
