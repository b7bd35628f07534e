"""Failures the real ERP adapters (SAP, GenNext) raise beyond the domain's two categories."""

from __future__ import annotations

from typing import ClassVar

from crm_domain.errors import UpstreamUnavailable


class ErpCredentialsRefused(UpstreamUnavailable):
    """The ERP refused our credentials (HTTP 401/403, a WS-Security authentication fault).

    It is an `UpstreamUnavailable`, not an `ErpRejected`: the order itself is fine, and once operations fix the
    user, password or API key the very same message goes through. Rejecting would dead-letter every order sent
    while the secret was wrong, each to be retried by hand. It is not retried silently either: the message names
    the setting to check, the adapter logs it at ERROR, the outbox backs off and finally dead-letters (which
    alerts), and a per-ERP circuit breaker counts it like any other unavailability.
    """

    code: ClassVar[str] = "erp_credentials_refused"

    def __init__(self, erp: str, detail: str, settings: str) -> None:
        super().__init__(f"{erp} refused our credentials ({detail}): check {settings}")
        self.erp = erp
        self.detail = detail
