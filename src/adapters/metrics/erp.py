"""ERP calls measured at the gateway boundary: how long each call took and how it failed, by ERP and operation.

`crm_erp_call_duration_seconds{erp, operation}` (histogram) counts every call, failed or not;
`crm_erp_call_failures_total{erp, operation, kind}` counts the failed ones: `unavailable` (timeout, connection,
5xx: the calls the circuit breaker counts), `rejected` (the ERP refused for good) and `error` (anything else: an
odd answer, a bug). The failure ratio of an ERP is failures over the histogram's `_count`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Final, TypeVar

from prometheus_client import Counter, Histogram

from crm_domain.erp import (
    ErpBalance,
    ErpChanges,
    ErpCustomer,
    ErpOrderAck,
    ErpOrderRequest,
    ErpOrderStatus,
    ErpProduct,
    ErpRejected,
)
from crm_domain.errors import UpstreamUnavailable
from crm_domain.ports import ErpGateway

T = TypeVar("T")

ERP_OPERATIONS: Final = (
    "create_order",
    "cancel_order",
    "order_status",
    "customer_balance",
    "customers_changed",
    "products_changed",
)
FAILURE_KINDS: Final = ("unavailable", "rejected", "error")

ERP_CALL_SECONDS = Histogram(
    "crm_erp_call_duration_seconds",
    "ERP calls by ERP and operation, and how long each took (failed calls included).",
    ["erp", "operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ERP_CALL_FAILURES = Counter(
    "crm_erp_call_failures_total",
    "ERP calls that failed, by ERP, operation and kind (unavailable, rejected, error).",
    ["erp", "operation", "kind"],
)


class MeteredErpGateway:
    """An `ErpGateway` that measures every call of the one it wraps (`inner`), then answers or raises as it does.
    Every series of the ERP starts at zero, so a rate over it is defined before the first call."""

    def __init__(self, inner: ErpGateway) -> None:
        self.inner = inner
        self._erp = inner.name
        for operation in ERP_OPERATIONS:
            ERP_CALL_SECONDS.labels(erp=self._erp, operation=operation)
            for kind in FAILURE_KINDS:
                ERP_CALL_FAILURES.labels(erp=self._erp, operation=operation, kind=kind)

    @property
    def name(self) -> str:
        return self._erp

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        return self._measure("create_order", lambda: self.inner.create_order(order))

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        self._measure("cancel_order", lambda: self.inner.cancel_order(erp_order_id, reason))

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        return self._measure("order_status", lambda: self.inner.order_status(erp_order_id))

    def customer_balance(self, customer_code: str) -> ErpBalance:
        return self._measure("customer_balance", lambda: self.inner.customer_balance(customer_code))

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        return self._measure("customers_changed", lambda: self.inner.customers_changed(since, cursor, limit))

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]:
        return self._measure("products_changed", lambda: self.inner.products_changed(since, cursor, limit))

    def _measure(self, operation: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return call()
        except Exception as exc:
            ERP_CALL_FAILURES.labels(erp=self._erp, operation=operation, kind=_kind(exc)).inc()
            raise
        finally:
            ERP_CALL_SECONDS.labels(erp=self._erp, operation=operation).observe(time.perf_counter() - started)


def _kind(exc: Exception) -> str:
    if isinstance(exc, UpstreamUnavailable):
        return "unavailable"
    if isinstance(exc, ErpRejected):
        return "rejected"
    return "error"
