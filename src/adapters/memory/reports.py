"""Sales buckets, held orders and the customers' ERP ledger in the memory store (tests, `memory://`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crm_domain.orders import OrderStatus
from crm_domain.reports import Dimension, HeldOrder, LedgerEntry, SalesQuery, SalesTotal
from crm_domain.sales import ORDER_LEVEL, ZERO, SalesFigures, SalesKey, SalesMove, sales_deltas

if TYPE_CHECKING:
    from adapters.memory.store import Tx

_VERSION = "version"


def dimension_key(key: SalesKey, dimension: Dimension) -> str:
    if dimension is Dimension.DAY:
        return key.day.isoformat()
    if dimension is Dimension.CUSTOMER:
        return key.customer_id
    if dimension is Dimension.REP:
        return key.rep_id
    return key.sku


def wanted(key: SalesKey, query: SalesQuery) -> bool:
    return (
        (key.sku != ORDER_LEVEL) is query.lines
        and query.start <= key.day <= query.end
        and key.status in query.statuses
        and (query.customer_ids is None or key.customer_id in query.customer_ids)
        and (query.rep_ids is None or key.rep_id in query.rep_ids)
        and (query.skus is None or key.sku in query.skus)
    )


class MemoryReportRepository:
    def __init__(self, tx: Tx, tz: ZoneInfo) -> None:
        self._tx = tx
        self._tz = tz

    def record_moves(self, moves: list[SalesMove]) -> None:
        self.apply(sales_deltas(moves, self._tz))

    def apply(self, deltas: dict[SalesKey, SalesFigures]) -> None:
        for key, figures in deltas.items():
            self._tx.put("sales", key, (self._tx.get("sales", key) or ZERO) + figures)
        self._bump()

    def _bump(self) -> None:
        self._tx.put("sales_version", _VERSION, (self._tx.get("sales_version", _VERSION) or 0) + 1)

    def totals(self, query: SalesQuery) -> list[SalesTotal]:
        sums: dict[tuple[str, str], SalesFigures] = {}
        for key, figures in self._tx.items("sales"):
            if wanted(key, query):
                group = dimension_key(key, query.dimension), key.currency
                sums[group] = sums.get(group, ZERO) + figures
        return [SalesTotal(key, currency, figures) for (key, currency), figures in sorted(sums.items())]

    def buckets(self) -> dict[SalesKey, SalesFigures]:
        return {key: figures for key, figures in self._tx.items("sales") if not figures.is_zero}

    def replace_buckets(self, buckets: dict[SalesKey, SalesFigures]) -> None:
        for key, _ in list(self._tx.items("sales")):
            self._tx.delete("sales", key)
        for key, figures in buckets.items():
            self._tx.put("sales", key, figures)
        self._bump()

    def summary_differences(self) -> int:
        return 0  # no roll-up kept: reports sum the buckets

    def version(self) -> str:
        return str(self._tx.get("sales_version", _VERSION) or 0)

    def holds(self, customer_ids: frozenset[str] | None) -> list[HeldOrder]:
        held = [
            HeldOrder.of(o)
            for o in self._tx.values("orders")
            if o.status is OrderStatus.ON_CREDIT_HOLD and (customer_ids is None or o.customer_id in customer_ids)
        ]
        return sorted(held, key=lambda h: (h.held_at, h.number))

    def hold_counts(self, customer_ids: frozenset[str] | None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for order in self.holds(customer_ids):
            counts[order.customer_id] = counts.get(order.customer_id, 0) + 1
        return counts

    def add_entry(self, entry: LedgerEntry) -> None:
        self._tx.put("ledger", entry.id, entry)

    def entries(self, customer_id: str, until: datetime) -> list[LedgerEntry]:
        found = [e for e in self._tx.values("ledger") if e.customer_id == customer_id and e.at < until]
        return sorted(found, key=lambda e: (e.at, e.id))
