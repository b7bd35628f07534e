"""Sending through a second SMS gateway, and trying again (SPEC §5: sign-in must survive an SMS outage).

`FailoverSmsSender` tries its gateways in order (primary, then the fallback of `CRM_SMS_FALLBACK_BACKEND`) until
one takes the message. When none does it waits and tries them all again, up to `attempts` rounds: `backoff[i]`
seconds before round i + 2, and never a new try once `budget` seconds have passed since the first, so a sign-in
request answers within a few seconds even when both gateways hang (each try is bounded by its gateway's timeout).

What a gateway answers decides what happens next:
- `UpstreamUnavailable` (down, timeout, 5xx, a wrong key): the next gateway; after the last, the next round;
- `RecipientRejected` (this gateway refuses this number or text for good): the next gateway, since another
  provider may carry it, but no further round: asking the same gateways again cannot change the answer.
When every try failed, the last `UpstreamUnavailable` is raised, or the `RecipientRejected` when every gateway
refused. The outbox's notifications use one round (the outbox retries them later); sign-in codes use three.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from crm_domain.ports import SmsSender

log = logging.getLogger("crm.sms")

SIGN_IN_ATTEMPTS = 3
SIGN_IN_BACKOFF = (0.25, 0.75)
SIGN_IN_BUDGET = 8.0


class FailoverSmsSender:
    def __init__(
        self,
        gateways: Sequence[SmsSender],
        *,
        attempts: int = 1,
        backoff: Sequence[float] = (),
        budget: float = SIGN_IN_BUDGET,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not gateways:
            raise ValueError("at least one SMS gateway is needed")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._gateways = tuple(gateways)
        self._attempts = attempts
        self._backoff = tuple(backoff)
        self._budget = budget
        self._sleep = sleep
        self._monotonic = monotonic

    def send(self, to: str, text: str) -> None:
        started = self._monotonic()
        unavailable: UpstreamUnavailable | None = None
        for attempt in range(self._attempts):
            if attempt:
                delay = self._backoff[min(attempt - 1, len(self._backoff) - 1)] if self._backoff else 0.0
                if self._monotonic() - started + delay >= self._budget:
                    break
                self._sleep(delay)
            rejected: RecipientRejected | None = None
            for position, gateway in enumerate(self._gateways):
                try:
                    gateway.send(to, text)
                except UpstreamUnavailable as exc:
                    unavailable = exc
                except RecipientRejected as exc:
                    rejected = exc
                else:
                    if attempt or position:
                        log.warning(
                            "sms taken by gateway %d of %d on round %d", position + 1, len(self._gateways), attempt + 1
                        )
                    return
                if self._monotonic() - started >= self._budget:
                    break
            if rejected is not None and unavailable is None:
                raise rejected  # every gateway refused it for good
            if rejected is not None:
                break  # one refused it for good: another round would not change its answer
        assert unavailable is not None
        raise unavailable
