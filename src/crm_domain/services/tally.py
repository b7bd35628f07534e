"""Running totals of achieved sales, kept with each order change (SPEC §2.6: no scans on read)."""

from __future__ import annotations

from crm_domain.orders import Order
from crm_domain.performance import period_of
from crm_domain.ports import UnitOfWork
from crm_domain.services.context import ServiceContext


def count_order(ctx: ServiceContext, uow: UnitOfWork, order: Order, sign: int = 1) -> None:
    """Add (sign=1) or remove (sign=-1) an order that entered or left the counted states."""
    if order.rep_id is None or order.submitted_at is None:
        return
    period = period_of(order.submitted_at, ctx.config.tz)
    uow.performance.add(
        user_id=order.rep_id, period=period, currency=order.currency, amount=sign * order.total.minor, orders=sign
    )
