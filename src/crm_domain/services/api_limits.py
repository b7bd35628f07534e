"""The API rate limits of SPEC §5: every signed-in user has a rate of its own, anonymous callers one per client
address. Counted in the shared `RateLimiter` (atomic across workers and pods), one call per request."""

from __future__ import annotations

import attrs

from crm_domain.errors import TooManyRequests
from crm_domain.ports import RateLimiter

MINUTE = 60


@attrs.frozen(kw_only=True)
class ApiRates:
    """Requests a minute (bursts of up to as many): `per_user` for each signed-in user, `per_address` for the
    anonymous callers of each client address."""

    per_user: int = 1200
    per_address: int = 300

    def __attrs_post_init__(self) -> None:
        if self.per_user < 1 or self.per_address < 1:
            raise ValueError("API rates are at least one request a minute")


class ApiLimits:
    def __init__(self, limiter: RateLimiter, rates: ApiRates | None = None) -> None:
        self._limiter = limiter
        self.rates = rates or ApiRates()

    def admit(self, *, user_id: str | None, address: str) -> None:
        """Count this request against its user (when signed in) or its address; `TooManyRequests` over the rate."""
        if user_id is not None:
            wait = self._limiter.throttle(f"api:user:{user_id}", self.rates.per_user, MINUTE)
            who = "this user"
        else:
            wait = self._limiter.throttle(f"api:address:{address}", self.rates.per_address, MINUTE)
            who = "this address"
        if wait > 0:
            raise TooManyRequests(f"too many requests from {who}; try again in {wait} s", retry_after=wait)
