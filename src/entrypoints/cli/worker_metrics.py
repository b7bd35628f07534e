"""`crm worker`'s own `/metrics` (`CRM_WORKER_METRICS_PORT`): what only the worker knows, since it is the process
that calls the ERPs and sends the notifications (SPEC §9). Served on a port of its own by prometheus_client, in a
daemon thread; Kubernetes scrapes it as job `crm-worker` (deploy/k8s, the worker's pod annotations).

- the ERP calls (`crm_erp_call_duration_seconds`, `crm_erp_call_failures_total`), notifications
  (`crm_notifications_total`) and store commits (`crm_store_commit_duration_seconds`) it made;
- `crm_erp_breaker_open{erp}`: 1 while the circuit breaker of that ERP is open, i.e. from the failure that opened
  it until a call succeeds again (its half-open probes included), else 0. Read from the dispatcher when scraped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Metric, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from crm_domain.customers import ErpSystem
from crm_domain.errors import ValidationFailed
from crm_domain.ports import ErpGateways
from crm_domain.services.delivery import OutboxDispatcher

log = logging.getLogger("crm.worker")

#: The dispatcher names the ERP sync handler's breakers `erp:<system>` (one per ERP).
_ERP_BREAKER = "erp:"


class BreakerCollector(Collector):
    def __init__(self, dispatcher: OutboxDispatcher, systems: Iterable[str] = tuple(ErpSystem)) -> None:
        self._dispatcher = dispatcher
        self._systems = tuple(str(s) for s in systems)

    def collect(self) -> Iterator[Metric]:
        state = dict.fromkeys(self._systems, 0.0)
        for key, breaker in list(self._dispatcher.breakers.items()):
            if key.startswith(_ERP_BREAKER):
                state[key.removeprefix(_ERP_BREAKER)] = 0.0 if breaker.opened_at is None else 1.0
        family = GaugeMetricFamily(
            "crm_erp_breaker_open", "1 while the worker's circuit breaker of the ERP is open, else 0.", labels=["erp"]
        )
        for erp, value in sorted(state.items()):
            family.add_metric([erp], value)
        yield family


def configured_erps(erp: ErpGateways) -> list[str]:
    """The ERP systems that have a gateway (`for_system` refuses the others)."""
    configured = []
    for system in ErpSystem:
        try:
            erp.for_system(str(system))
        except ValidationFailed:
            continue
        configured.append(str(system))
    return configured


class WorkerCollector(Collector):
    """The process's metrics (every process's, with `PROMETHEUS_MULTIPROC_DIR`) and the breakers."""

    def __init__(self, dispatcher: OutboxDispatcher, systems: Iterable[str] = tuple(ErpSystem)) -> None:
        self._breakers = BreakerCollector(dispatcher, systems)

    def collect(self) -> Iterator[Metric]:
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        yield from self._breakers.collect()


def serve_worker_metrics(
    dispatcher: OutboxDispatcher,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - scraped from other pods
    systems: Iterable[str] = tuple(ErpSystem),
) -> WSGIServer:
    """Serve `/metrics` on `host:port` in a daemon thread; the caller may `shutdown()` the server. The breaker
    gauge lists `systems` (the ERPs configured) even before any call."""
    server, _ = start_http_server(port, addr=host, registry=WorkerCollector(dispatcher, systems))
    log.info("worker metrics on :%d/metrics", server.server_port)
    return server
