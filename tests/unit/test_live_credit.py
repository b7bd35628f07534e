"""LiveCredit (SPEC §8 request-reply at the credit check) on its own: the breaker per ERP, what counts as an answer,
and the rule that a live balance never replaces newer stored figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer, ErpSystem
from crm_domain.erp import BalanceSource, ErpBalance
from crm_domain.errors import UpstreamUnavailable
from crm_domain.money import Money
from crm_domain.services.delivery import BreakerSettings
from crm_domain.services.live_credit import LiveCredit, LiveReading
from crm_domain.services.orders import _take_live_balance

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Gateway:
    """An ErpGateway stand-in answering `customer_balance` from a script: a Money, or an exception to raise."""

    name = "sap"

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls = 0

    def customer_balance(self, customer_code: str) -> ErpBalance:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, Money)
        return ErpBalance(customer_code=customer_code, receivables=answer, as_of=T0)


def customer(erp: ErpSystem = ErpSystem.SAP, currency: str = "INR") -> Customer:
    return Customer(
        id="c1",
        code="D-100",
        name="Dealer",
        mobile="+919100000001",
        currency=currency,
        erp_system=erp,
        created_at=T0,
        updated_at=T0,
    )


def live(gateway: Gateway, clock: Clock, failures: int = 2) -> LiveCredit:
    breaker = BreakerSettings(failures=failures, cool_down=timedelta(seconds=30))
    return LiveCredit(clock=clock, balances={"sap": gateway}, breaker=breaker)  # type: ignore[dict-item]


def test_the_breaker_opens_after_failures_and_lets_one_call_through_after_the_cool_down() -> None:
    clock = Clock()
    down = UpstreamUnavailable("sap: timed out")
    gateway = Gateway(down, down, Money.of("5.00", "INR"), Money.of("6.00", "INR"))
    reader = live(gateway, clock)
    assert reader.read(customer()).balance is None
    assert reader.read(customer()).balance is None
    assert reader.read(customer()).source is BalanceSource.STORED and gateway.calls == 2  # open: no call
    assert reader.stats["sap"].skipped == 1 and reader.stats["sap"].failed == 2
    clock.at += timedelta(seconds=31)
    reading = reader.read(customer())
    assert reading.source is BalanceSource.LIVE and reading.balance is not None
    assert reading.balance.receivables == Money.of("5.00", "INR")
    assert not reader.breaker_open("sap")


def test_any_failure_of_the_call_leaves_the_stored_figures() -> None:
    reader = live(Gateway(RuntimeError("malformed answer")), Clock())
    assert reader.read(customer()).balance is None


def test_an_answer_in_another_currency_is_not_used() -> None:
    reader = live(Gateway(Money.of("5.00", "USD")), Clock())
    assert reader.read(customer()).balance is None


def test_customers_of_an_erp_not_read_live_cost_no_call() -> None:
    gateway = Gateway()
    reader = live(gateway, Clock())
    assert reader.read(customer(ErpSystem.GENNEXT)) == LiveReading()
    assert gateway.calls == 0


minor = st.integers(min_value=0, max_value=10**9)
instants = st.none() | st.integers(min_value=-1000, max_value=1000).map(lambda m: T0 + timedelta(minutes=m))


@given(stored=minor, stored_as_of=instants, live_minor=st.none() | minor, live_as_of=instants)
def test_a_live_balance_never_replaces_newer_figures(
    stored: int, stored_as_of: datetime | None, live_minor: int | None, live_as_of: datetime | None
) -> None:
    account = CreditAccount(
        customer_id="c1", currency="INR", limit=10**9, receivables=stored, balance_as_of=stored_as_of
    )
    balance = None
    if live_minor is not None:
        balance = ErpBalance(customer_code="D-100", receivables=Money(live_minor, "INR"), as_of=live_as_of)
    reading = LiveReading(balance=balance, read_at=T0)

    source, as_of, changed = _take_live_balance(account, reading, T0)

    newer_stored = live_as_of is not None and stored_as_of is not None and live_as_of < stored_as_of
    if balance is None or newer_stored:
        assert (source, account.receivables, as_of, changed) == (BalanceSource.STORED, stored, stored_as_of, False)
    else:
        assert source is BalanceSource.LIVE and account.receivables == live_minor
        assert as_of == (live_as_of or T0)
        assert changed == (live_minor != stored or (live_as_of is not None and live_as_of != stored_as_of))
