"""Request-reply reads of the ERP at the moment of a credit check (SPEC §8): the customer's balance, and for an ERP
with credit management of its own (SAP) its verdict on the amount as a second opinion.

A read happens before the store's atomic check-and-reserve, never inside it, and never holds up a submit for long:
the gateways given here are built with the short live-read timeout (`CRM_LIVE_CREDIT_TIMEOUT_MS`, 800 ms by
default) by the composition root, and each ERP has a circuit breaker of its own in this process. On a timeout, a
failure or an open breaker the reading is empty and the check uses the stored receivables; the order's credit
decision says which source it used (`crm_domain.erp.BalanceSource`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

import attrs

from crm_domain.customers import Customer
from crm_domain.erp import BalanceSource, ErpBalance, ErpCreditVerdict
from crm_domain.money import Money
from crm_domain.ports import Clock, ErpCreditManagement, ErpGateway
from crm_domain.services.delivery import DEFAULT_BREAKER, BreakerSettings, CircuitBreaker

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class LiveReading:
    """What the ERP said just now. `balance` None: no live balance for this customer's ERP, or it could not be read
    in time (the stored one applies). `verdict` None: no second opinion asked, or none in time."""

    balance: ErpBalance | None = None
    verdict: ErpCreditVerdict | None = None
    read_at: datetime | None = None

    @property
    def source(self) -> BalanceSource:
        return BalanceSource.STORED if self.balance is None else BalanceSource.LIVE


NO_READING = LiveReading()


@attrs.define(kw_only=True)
class LiveReadStats:
    """Counts since start, by outcome: `live` answered, `failed` (timeout or error: stored used), `skipped` (breaker
    open: no call made). Exported as metrics by the entry points."""

    live: int = 0
    failed: int = 0
    skipped: int = 0


class LiveCredit:
    """Live reads of the ERPs that are configured for them. Safe to share between threads."""

    def __init__(
        self,
        *,
        clock: Clock,
        balances: Mapping[str, ErpGateway] | None = None,
        verdicts: Mapping[str, ErpCreditManagement] | None = None,
        breaker: BreakerSettings = DEFAULT_BREAKER,
    ) -> None:
        self._clock = clock
        self._balances = dict(balances or {})
        self._verdicts = dict(verdicts or {})
        self._breaker_settings = breaker
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()
        self.stats: dict[str, LiveReadStats] = {}

    @property
    def enabled(self) -> bool:
        """Whether any ERP is read live (when not, a submit does not look its customer up before the write)."""
        return bool(self._balances or self._verdicts)

    def reads_for(self, customer: Customer) -> bool:
        erp = customer.erp_system.value
        return erp in self._balances or erp in self._verdicts

    def read(self, customer: Customer, amount: Money | None = None) -> LiveReading:
        """The live balance of `customer` (when its ERP is configured for it) and, with `amount`, the ERP's own
        verdict on it (when configured); never raises: what cannot be read in time is left out."""
        erp = customer.erp_system.value
        if not self.reads_for(customer):
            return NO_READING
        balance: ErpBalance | None = None
        verdict: ErpCreditVerdict | None = None
        gateway = self._balances.get(erp)
        if gateway is not None:
            balance = self._call(erp, lambda: gateway.customer_balance(customer.code))
        credit = self._verdicts.get(erp)
        if credit is not None and amount is not None:
            verdict = self._call(erp, lambda: credit.credit_worthiness(customer.code, amount))
        if balance is not None and balance.receivables.currency != customer.currency:
            balance = None  # an ERP answering in another currency cannot stand in for the stored figures
        return LiveReading(balance=balance, verdict=verdict, read_at=self._clock.now())

    def breaker_open(self, erp: str) -> bool:
        with self._lock:
            breaker = self._breakers.get(erp)
            return breaker is not None and breaker.is_open(self._clock.now())

    def _call(self, erp: str, call: Callable[[], T]) -> T | None:
        stats = self.stats.setdefault(erp, LiveReadStats())
        with self._lock:
            breaker = self._breakers.setdefault(erp, CircuitBreaker(self._breaker_settings))
            if breaker.is_open(self._clock.now()):
                stats.skipped += 1
                return None
        try:
            answer = call()
        except Exception:  # noqa: BLE001 - a timeout, an outage, a refusal, a malformed answer: the stored figures
            with self._lock:
                breaker.failed(self._clock.now())
                stats.failed += 1
            return None
        with self._lock:
            breaker.succeeded()
            stats.live += 1
        return answer
