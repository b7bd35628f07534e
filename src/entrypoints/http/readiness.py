"""What readiness checks: the store answers (and Redis, when configured)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crm_domain.errors import UpstreamUnavailable
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest


class Readiness:
    """Checks that the app's dependencies answer."""

    def __init__(self, store: UnitOfWorkFactory, probes: Mapping[str, Callable[[], None]] | None = None) -> None:
        self._store = store
        self._probes = dict(probes or {})  # e.g. "redis": a PING with the client's short timeouts

    def check(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with self._store(read_only=True) as uow:
                uow.products.page(PageRequest(limit=1))
            checks["store"] = "ok"
        except UpstreamUnavailable as exc:  # says why for the operator (e.g. "… lacks indexes …; run `crm db init`")
            checks["store"] = f"failed: {type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["store"] = f"failed: {type(exc).__name__}"
        for name, probe in self._probes.items():
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"failed: {type(exc).__name__}"
        return checks
