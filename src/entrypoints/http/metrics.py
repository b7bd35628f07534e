"""Business metrics on `/metrics`, next to the HTTP metrics of Litestar's Prometheus plugin (SPEC §9).

Two kinds:
- Counters of what the API did (orders by result, releases, rejections), incremented by the handlers. With
  several worker processes each keeps its own; `crm serve` sets `PROMETHEUS_MULTIPROC_DIR` so every worker
  writes its samples to a shared directory and a scrape of any worker adds them all up.
- Gauges read from the store at scrape time (outbox backlog, age of the oldest pending message, dead letters):
  the store is shared, so every worker reports the same truth, and the separate `crm worker` process needs no
  endpoint of its own for them to be seen.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from crm_domain.errors import Unauthenticated
from crm_domain.orders import Order
from crm_domain.ports import Clock, UnitOfWorkFactory

ORDERS = Counter(
    "crm_orders_total",
    "Orders created or submitted through the API, by the state they ended in (draft, submitted, on_credit_hold).",
    ["operation", "result"],
)
IDEMPOTENT_REPLAYS = Counter(
    "crm_idempotent_replays_total",
    "Requests answered with an earlier request's result because they repeated its Idempotency-Key, by operation"
    " (not counted in crm_orders_total).",
    ["operation"],
)
CREDIT_DECISIONS = Counter(
    "crm_credit_hold_decisions_total", "Orders taken off credit hold, by decision (released, rejected).", ["decision"]
)


def count_order(operation: str, order: Order) -> Order:
    ORDERS.labels(operation=operation, result=order.status.value).inc()
    return order


def count_replay(operation: str, order: Order) -> Order:
    IDEMPOTENT_REPLAYS.labels(operation=operation).inc()
    return order


def count_decision(decision: str, order: Order) -> Order:
    CREDIT_DECISIONS.labels(decision=decision).inc()
    return order


class StoreCollector(Collector):
    """Outbox figures read from the store when scraped. A store that cannot answer yields nothing (readiness
    reports that); a scrape never fails because of it."""

    def __init__(self, store: UnitOfWorkFactory, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._store(read_only=True) as uow:
                stats = uow.outbox.stats()
        except Exception:  # noqa: BLE001 - metrics must not fail the scrape
            return
        messages = GaugeMetricFamily("crm_outbox_messages", "Outbox messages by delivery status.", labels=["status"])
        messages.add_metric(["pending"], stats.pending)
        messages.add_metric(["dead"], stats.dead)
        messages.add_metric(["delivered"], stats.delivered)
        yield messages
        yield GaugeMetricFamily(
            "crm_outbox_dead_letters", "Outbox messages that gave up (see `crm outbox status`).", value=stats.dead
        )
        yield GaugeMetricFamily(
            "crm_outbox_oldest_pending_age_seconds",
            "Age of the oldest message still waiting for delivery (0 when none).",
            value=_age(stats.oldest_pending_at, self._clock.now()),
        )


def _age(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else max((now - since).total_seconds(), 0.0)


class HttpMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware (the same four metrics, names and labels: method, path template, status
    code, app name), with less work per request: no `Request` built, the labels worked out once, no wrapper
    copied with `functools.wraps`. For the configuration `http_metrics` makes only."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        if not config.group_path or config.labels or config.exemplars or config.excluded_http_methods:
            raise ValueError("HttpMetrics: paths grouped, and no extra labels, exemplars or excluded methods")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]
        app_name = self._config.app_name
        labels: dict[str, str | int | float] = {
            "method": method,
            "path": scope["path_template"],
            "status_code": 200,
            "app_name": app_name,
        }
        in_progress = self.requests_in_progress(labels).labels(*labels.values())
        started = time.perf_counter()
        span = [200, 0.0]  # status, seconds until the (last) body message

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                span[0] = message["status"]
            elif message["type"] == "http.response.body":
                span[1] = time.perf_counter() - started
            await send(message)

        in_progress.inc()
        try:
            await self.app(scope, receive, send_timed)
        finally:
            in_progress.dec()
            labels["status_code"] = span[0]
            values = [*labels.values()]
            if span[0] >= HTTP_500_INTERNAL_SERVER_ERROR:
                self.requests_error_count(labels).labels(*values).inc()
            self.request_count(labels).labels(*values).inc()
            self.request_time(labels).labels(*values).observe(span[1])


def http_metrics() -> PrometheusConfig:
    """The HTTP metrics of every request but the scrape, as `crm_requests_total` etc., paths grouped by route."""
    return PrometheusConfig(
        app_name="crm", prefix="crm", group_path=True, exclude=["^/metrics$"], middleware_class=HttpMetrics
    )


def metrics_controller(store: UnitOfWorkFactory, clock: Clock, token: str | None = None) -> type[PrometheusController]:
    """`GET /metrics`; with `token` (`CRM_METRICS_TOKEN`) only for a scraper that sends
    `Authorization: Bearer <token>` (anyone else: 401), else open to whoever reaches it (keep it inside)."""
    collector = StoreCollector(store, clock)
    expected = f"Bearer {token}".encode() if token else None

    class MetricsController(PrometheusController):
        @get(
            operation_id="metrics",
            summary="Prometheus metrics (HTTP and business); with CRM_METRICS_TOKEN set, only with that bearer token",
            sync_to_thread=True,
            security=[],
            media_type="text/plain",  # the document's content type; the answer names the exposition version too
        )
        def get(self, request: Request[Any, Any, Any]) -> Response[bytes]:
            if expected is not None:
                sent = request.headers.get("authorization", "").encode()
                if not hmac.compare_digest(sent, expected):
                    raise Unauthenticated("GET /metrics needs the metrics token (Authorization: Bearer …)")
            if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
                registry = CollectorRegistry()
                multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
                text = generate_latest(registry)
            else:
                text = generate_latest(REGISTRY)
            local = CollectorRegistry()
            local.register(collector)
            text += generate_latest(local)
            return Response(text, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return MetricsController
