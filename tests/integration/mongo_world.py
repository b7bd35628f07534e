"""A small world on a MongoStore for the integration tests: an admin, a rep, one dealer with a limit, a
product of 100.00 without tax."""

from __future__ import annotations

from decimal import Decimal

import attrs

from adapters.mongo import MongoStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import UlidGenerator
from crm_domain.app import Crm
from crm_domain.config import DomainConfig
from crm_domain.money import Money
from crm_domain.orders import LineRequest
from crm_domain.ports import Clock
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.context import ServiceContext
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Actor, Role


@attrs.frozen
class World:
    crm: Crm
    admin: Actor
    rep: Actor
    customer_id: str


def crm_on(store: MongoStore, clock: Clock, retries: int = 8) -> Crm:
    return Crm(
        ServiceContext(
            uow=store,
            clock=clock,
            ids=UlidGenerator(),
            mobiles=PhonenumbersNormaliser(),
            config=DomainConfig(concurrency_retries=retries),
        )
    )


def world(store: MongoStore, clock: Clock, limit: str, retries: int = 8) -> World:
    crm = crm_on(store, clock, retries)
    admin = crm.users.create_admin("9876543210", "Asha Admin").actor()
    rep = crm.users.create(
        admin, NewUser(mobile="+919876500001", name="Ravi Rep", roles=frozenset({Role.SALES_REP}))
    ).actor()
    customer = crm.customers.create(
        admin,
        NewCustomer(
            code="D001",
            name="Dealer One",
            mobile="9876511111",
            credit_limit=Money.of(limit, "INR"),
            assigned_rep_id=rep.id,
        ),
    ).customer
    crm.catalogue.create(
        admin, NewProduct(sku="P1", name="Pump", unit_price=Money.of("100.00", "INR"), tax_rate=Decimal(0))
    )
    return World(crm=crm, admin=admin, rep=rep, customer_id=customer.id)


def an_order(world: World, quantity: int, *, submit: bool) -> NewOrder:
    return NewOrder(
        customer_id=world.customer_id, lines=(LineRequest(sku="P1", quantity=Decimal(quantity)),), submit=submit
    )
