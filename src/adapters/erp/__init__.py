"""ERP gateways (SAP over SOAP, GenNext over REST, the sandbox) and the router that picks one per customer."""

from __future__ import annotations

from collections.abc import Mapping

from crm_domain.errors import ValidationFailed
from crm_domain.ports import ErpGateway


class ErpRouter:
    """`ErpGateways`: each customer names its ERP (`erp_system`); this hands out the gateway configured for it."""

    def __init__(self, gateways: Mapping[str, ErpGateway]) -> None:
        self._gateways = dict(gateways)

    def for_system(self, system: str) -> ErpGateway:
        try:
            return self._gateways[system]
        except KeyError:
            configured = ", ".join(sorted(self._gateways)) or "none"
            raise ValidationFailed(
                f"no ERP gateway {system!r} is configured (configured: {configured})", field="erp"
            ) from None

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(sorted(self._gateways))
