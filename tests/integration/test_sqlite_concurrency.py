"""Several processes submit orders for one customer at once against one SQLite file, through the real
services: the credit check and the reservation must be one atomic step across processes (SPEC §2.3, §10)."""

from __future__ import annotations

import multiprocessing
import queue
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.phones import PhonenumbersNormaliser
from adapters.sqlite import SqliteStore
from adapters.system import SystemClock, UlidGenerator
from crm_domain.app import Crm
from crm_domain.money import Money
from crm_domain.orders import LineRequest, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.context import ServiceContext
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Role

PROCESSES = 6
ORDERS_EACH = 10
LIMIT = Money.of("10000.00", "INR")
#: Quantities of a 100.00 product without tax: each process asks for 1,500 .. 3,100 in total, 13,800 in all,
#: against a limit of 10,000, so part of the orders fit and part go on hold.
QUANTITIES = [[1 + (p + i) % 4 for i in range(ORDERS_EACH)] for p in range(PROCESSES)]


@attrs.frozen
class World:
    path: str
    admin_id: str
    rep_id: str
    customer_id: str


def _crm(path: str) -> Crm:
    return Crm(
        ServiceContext(
            uow=SqliteStore(Path(path)),
            clock=SystemClock(),
            ids=UlidGenerator(),
            mobiles=PhonenumbersNormaliser(),
        )
    )


def _world(path: Path) -> World:
    crm = _crm(str(path))
    admin = crm.users.create_admin("9876543210", "Asha Admin").actor()
    rep = crm.users.create(
        admin, NewUser(mobile="+919876500001", name="Ravi Rep", roles=frozenset({Role.SALES_REP}))
    ).actor()
    customer = crm.customers.create(
        admin,
        NewCustomer(code="D001", name="Dealer One", mobile="9876511111", credit_limit=LIMIT, assigned_rep_id=rep.id),
    ).customer
    crm.catalogue.create(
        admin, NewProduct(sku="P1", name="Pump", unit_price=Money.of("100.00", "INR"), tax_rate=Decimal(0))
    )
    return World(path=str(path), admin_id=admin.id, rep_id=rep.id, customer_id=customer.id)


def _submit(world: World, quantities: list[int], start: Any, results: Any) -> None:
    """One process: wait for the others, then submit one order per quantity as the rep."""
    try:
        crm = _crm(world.path)
        rep = crm.users.find(world.rep_id)
        assert rep is not None
        start.wait(timeout=60)
        for quantity in quantities:
            order = crm.orders.create(
                rep.actor(),
                NewOrder(
                    customer_id=world.customer_id,
                    lines=(LineRequest(sku="P1", quantity=Decimal(quantity)),),
                    submit=True,
                ),
            )
            results.put(("order", order.id, order.number, order.status.value, order.total.minor))
    except BaseException as exc:
        results.put(("error", repr(exc)))
        raise
    finally:
        results.put(("done",))


@pytest.mark.slow
class TestConcurrentSubmits:
    def test_processes_submitting_at_once_never_reserve_past_the_limit(self, tmp_path: Path) -> None:
        world = _world(tmp_path / "crm.db")
        spawn = multiprocessing.get_context("spawn")
        start = spawn.Barrier(PROCESSES + 1)
        results = spawn.Queue()
        workers = [spawn.Process(target=_submit, args=(world, q, start, results)) for q in QUANTITIES]
        for worker in workers:
            worker.start()
        start.wait(timeout=60)  # every process is built and waiting: let them go at once

        orders, errors, done = [], [], 0
        while done < PROCESSES:
            try:
                message = results.get(timeout=60)
            except queue.Empty:
                break
            if message[0] == "order":
                orders.append(message[1:])
            elif message[0] == "error":
                errors.append(message[1])
            else:
                done += 1
        for worker in workers:
            worker.join(timeout=30)

        assert errors == []
        assert [w.exitcode for w in workers] == [0] * PROCESSES
        crm = _crm(world.path)
        admin = crm.users.find(world.admin_id)
        assert admin is not None
        stored = _all_orders(crm, admin.actor())
        submitted = [o for o in stored if o.status is OrderStatus.SUBMITTED]
        held = [o for o in stored if o.status is OrderStatus.ON_CREDIT_HOLD]
        position = crm.credit.position(admin.actor(), world.customer_id)
        account = crm.ctx.read(lambda uow: uow.credit.get(world.customer_id))
        assert account is not None

        assert len(orders) == PROCESSES * ORDERS_EACH
        assert len(submitted) + len(held) == PROCESSES * ORDERS_EACH
        assert submitted
        assert held
        assert position.exposure == sum((o.total for o in submitted), Money.zero("INR"))
        assert position.exposure <= LIMIT
        assert account.reserved <= LIMIT.minor
        assert set(account.reservations) == {o.id for o in submitted}
        assert len({number for _, number, _, _ in orders}) == len(orders)
        assert {o.id: o.status.value for o in stored} == {order_id: status for order_id, _, status, _ in orders}
        # Every hold was right when it was decided: the order did not fit what was reserved before it.
        for order in held:
            assert order.credit is not None
            assert order.credit.shortfall.minor > 0


def _all_orders(crm: Crm, actor: Any) -> list[Any]:
    found: list[Any] = []
    cursor: str | None = None
    while True:
        page = crm.orders.list(actor, PageRequest(limit=200, cursor=cursor), OrderQuery())
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
