"""Settings the domain rules depend on (the edge reads them from the environment and passes them in)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import attrs

from crm_domain.credit import CreditPolicy
from crm_domain.credit_governance import CreditBounds


@attrs.frozen(kw_only=True)
class DomainConfig:
    timezone: str = "Asia/Kolkata"
    default_currency: str = "INR"
    credit_policy: CreditPolicy = CreditPolicy()
    #: What a credit-term change request may ask for (temporary-limit days ahead, tolerance %).
    credit_bounds: CreditBounds = CreditBounds()
    idempotency_ttl: timedelta = timedelta(hours=24)
    #: How often a write is retried when an optimistic version check fails (stores without a write lock).
    concurrency_retries: int = 8

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
