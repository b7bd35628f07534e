"""Batch synchronisation from an ERP (SPEC §8 "batches for bulk synchronisation"): one page of customers or
products at a time, each page one unit of work, idempotent (a page applied twice changes nothing the second
time), with a tally of what each page created, updated, left unchanged or could not take.

- Products are matched by SKU and written with `ProductRepository.upsert_many`; only new or changed ones are
  written. The ERP owns name, unit of measure, price, tax rate, material id and the active flag; the minimum
  order quantity is the CRM's own (kept, or 1 for a new product).
- Customers go through the customer upsert (`CustomerService.upsert_in`, the use case `crm customers import`
  uses too), matched by code. A known customer served by another ERP is not touched (a failure). The ERP
  owns name, territory, ERP customer id and the active flag, and the mobile when it sends one; the credit terms
  are the CRM's: a new customer gets a credit limit of zero in its currency (a credit controller sets the real
  limit; until then every submit goes on credit hold). A new customer without a mobile cannot be created.
- Balances and order statuses go through `ErpEventService`, as ERP events do.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from crm_domain.erp import ErpCustomer, ErpProduct
from crm_domain.errors import DomainError
from crm_domain.orders import OrderStatus
from crm_domain.ports import OrderQuery, UnitOfWork
from crm_domain.products import Product
from crm_domain.records import PageRequest
from crm_domain.scope import Scope
from crm_domain.services.context import ServiceContext
from crm_domain.services.customers import CustomerRecord, CustomerService, Upserted
from crm_domain.users import SYSTEM

_PRODUCT_FIELDS = ("name", "uom", "unit_price", "tax_rate", "active", "erp_material_id", "min_order_qty")


@attrs.define
class SyncTally:
    """Counts of one batch or a whole run; `failures` are (key, reason)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[tuple[str, str]] = attrs.field(factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def add(self, other: SyncTally) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failures.extend(other.failures)


class ErpBatchSync:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._customers = CustomerService(ctx)

    def products(self, items: Sequence[ErpProduct]) -> SyncTally:
        """Insert or update one page of the ERP's products by SKU, in one unit of work."""

        def step(uow: UnitOfWork) -> SyncTally:
            tally = SyncTally()
            now = self._ctx.now()
            existing = uow.products.get_many(list({item.sku for item in items}))
            changed: dict[str, Product] = {}
            for item in items:
                try:
                    old = changed.get(item.sku) or existing.get(item.sku)
                    product = Product(
                        sku=item.sku,
                        name=item.name,
                        uom=item.uom,
                        unit_price=item.unit_price,
                        tax_rate=item.tax_rate,
                        active=item.active,
                        erp_material_id=item.erp_material_id,
                        min_order_qty=old.min_order_qty if old is not None else Decimal(1),
                        updated_at=now,
                    )
                except (DomainError, ValueError, ArithmeticError) as exc:
                    tally.failures.append((str(item.sku), str(exc)))
                    continue
                if old is None:
                    tally.created += 1
                elif all(getattr(old, f) == getattr(product, f) for f in _PRODUCT_FIELDS):
                    tally.unchanged += 1
                    continue
                elif item.sku not in changed:
                    tally.updated += 1
                changed[item.sku] = product
            if changed:
                uow.products.upsert_many(list(changed.values()))
            return tally

        return self._ctx.write(step)

    def customers(self, erp: str, items: Sequence[ErpCustomer]) -> SyncTally:
        """Create or update one page of the ERP's customers by code, in one unit of work."""

        def step(uow: UnitOfWork) -> SyncTally:
            tally = SyncTally()
            for item in items:
                try:
                    self._customer(uow, erp, item, tally)
                except (DomainError, ValueError, ArithmeticError) as exc:
                    tally.failures.append((item.customer_code, str(exc)))
            return tally

        return self._ctx.write(step)

    def _customer(self, uow: UnitOfWork, erp: str, item: ErpCustomer, tally: SyncTally) -> None:
        record = CustomerRecord(
            code=item.customer_code,
            name=item.name,
            mobile=item.mobile,
            currency=item.currency,
            territory=item.territory,
            erp_system=erp,
            erp_customer_id=item.erp_customer_id,
            active=item.active,
            from_erp=True,
        )
        outcome = self._customers.upsert_in(uow, SYSTEM, record).outcome
        if outcome is Upserted.CREATED:
            tally.created += 1
        elif outcome is Upserted.UPDATED:
            tally.updated += 1
        else:
            tally.unchanged += 1

    def customer_codes(self, erp: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """One page of the codes of the customers served by `erp` (ordered by code), and the next cursor."""

        def step(uow: UnitOfWork) -> tuple[list[str], str | None]:
            page = uow.customers.page(PageRequest(limit=limit, cursor=cursor), Scope(all_customers=True))
            return [c.code for c in page.items if c.erp_system.value == erp], page.next_cursor

        return self._ctx.read(step)

    def orders_in_erp(
        self, erp: str, status: OrderStatus, cursor: str | None, limit: int
    ) -> tuple[list[tuple[str, str]], str | None]:
        """One page of (order id, ERP order id) of the orders in `status` whose customer `erp` serves, and the
        next cursor (what `crm erp sync order-status` polls)."""

        def step(uow: UnitOfWork) -> tuple[list[tuple[str, str]], str | None]:
            page = uow.orders.page(PageRequest(limit=limit, cursor=cursor), OrderQuery(status=status))
            systems: dict[str, str | None] = {}
            found = []
            for order in page.items:
                if order.customer_id not in systems:
                    customer = uow.customers.get(order.customer_id)
                    systems[order.customer_id] = None if customer is None else customer.erp_system.value
                if systems[order.customer_id] == erp and order.erp_order_id:
                    found.append((order.id, order.erp_order_id))
            return found, page.next_cursor

        return self._ctx.read(step)
