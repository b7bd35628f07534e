"""What the command line gets from the composition root besides the use cases: the sandbox ERP to drive by hand,
and the demo's clocks."""

from __future__ import annotations

from adapters.erp.sandbox import SandboxErpGateway
from adapters.metrics import MeteredErpGateway
from adapters.system import FixedClock, SystemClock
from crm_domain.errors import ValidationFailed
from crm_domain.ports import Clock, ErpGateways
from entrypoints.ports import SandboxErpDriver, SettableClock


def sandbox_driver(erp: ErpGateways) -> SandboxErpDriver | None:
    """The sandbox among `erp`'s gateways, to drive by hand; None when this build routes "sandbox" elsewhere."""
    try:
        gateway = erp.for_system("sandbox")
    except ValidationFailed:
        return None
    gateway = gateway.inner if isinstance(gateway, MeteredErpGateway) else gateway
    return gateway if isinstance(gateway, SandboxErpGateway) else None


class DemoClocks:
    """The wall clock, and fixed clocks that stand still until set."""

    def system(self) -> Clock:
        return SystemClock()

    def settable(self) -> SettableClock:
        return FixedClock()
