"""SPEC §2.3 on the credit account itself: the guards of its terms (currency, sign), the overdue block before
any ERP report, and the figures. Written to kill the survivors of `scripts/mutation.py credit`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from crm_domain.credit import (
    CreditAccount,
    CreditPolicy,
    HoldReason,
    ReservationNotLoaded,
    Verdict,
)
from crm_domain.credit_governance import Approval, CreditLimitRequest
from crm_domain.errors import CreditRaiseNeedsApproval, CurrencyMismatch, ValidationFailed
from crm_domain.money import Money

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
TODAY = date(2025, 3, 1)
ALL = CreditPolicy()
#: Who changes the terms, why and when (the account records it in the event it returns); a raise carries the
#: approval of a request (SPEC §2.3 credit governance), which lowering ignores.
BY = {
    "by": "u-controller",
    "reason": "review",
    "at": AT,
    "approval": Approval(request_id="r1", requested_by="u-manager", approved_by="u-controller"),
}


def inr(minor: int) -> Money:
    return Money(minor, "INR")


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def account(limit: int = 1_000_000, **kw: object) -> CreditAccount:
    return CreditAccount(customer_id="c1", currency="INR", limit=limit, **kw)  # type: ignore[arg-type]


class TestSetLimit:
    def test_records_the_old_and_new_limit_and_keeps_the_new(self) -> None:
        credit = account(1_000)
        change = credit.set_limit(inr(2_500), **BY)
        assert (change.kind, change.old, change.new, change.changed_by) == ("limit", "10.00", "25.00", "u-controller")
        assert credit.limit == 2_500
        assert credit.events == [change]

    def test_another_currency_is_refused_and_changes_nothing(self) -> None:
        credit = account(1_000)
        with pytest.raises(CurrencyMismatch):
            credit.set_limit(usd(2_500), **BY)
        assert credit.limit == 1_000

    def test_a_negative_limit_is_refused(self) -> None:
        credit = account(1_000)
        with pytest.raises(ValidationFailed) as raised:
            credit.set_limit(inr(-1), **BY)
        assert (raised.value.field, credit.limit) == ("credit_limit", 1_000)


class TestSetTemporaryLimit:
    def test_an_amount_and_a_date_start_it_and_none_ends_it(self) -> None:
        credit = account(1_000)
        credit.set_temporary_limit(inr(5_000), TODAY, **BY)
        assert (credit.temp_limit, credit.temp_limit_until, credit.effective_limit(TODAY)) == (5_000, TODAY, 5_000)
        credit.set_temporary_limit(None, None, **BY)
        assert (credit.temp_limit, credit.temp_limit_until, credit.effective_limit(TODAY)) == (None, None, 1_000)

    def test_another_currency_is_refused_and_changes_nothing(self) -> None:
        credit = account(1_000)
        with pytest.raises(CurrencyMismatch):
            credit.set_temporary_limit(usd(5_000), TODAY, **BY)
        assert (credit.temp_limit, credit.temp_limit_until) == (None, None)

    def test_a_negative_temporary_limit_is_refused(self) -> None:
        credit = account(1_000)
        with pytest.raises(ValidationFailed) as raised:
            credit.set_temporary_limit(inr(-1), TODAY, **BY)
        assert (raised.value.field, credit.temp_limit) == ("temporary_limit", None)

    @pytest.mark.parametrize(("amount", "until"), [(inr(5_000), None), (None, TODAY)])
    def test_it_needs_both_an_amount_and_a_date(self, amount: Money | None, until: date | None) -> None:
        credit = account(1_000)
        with pytest.raises(ValidationFailed) as raised:
            credit.set_temporary_limit(amount, until, **BY)
        assert (raised.value.field, credit.temp_limit, credit.temp_limit_until) == ("until", None, None)


class TestUpdateBalance:
    def test_keeps_the_receivables_and_overdue_days(self) -> None:
        credit = account()
        credit.update_balance(inr(12_345), 7, AT)
        assert (credit.receivables, credit.overdue_days) == (12_345, 7)

    def test_another_currency_is_refused_and_changes_nothing(self) -> None:
        credit = account()
        with pytest.raises(CurrencyMismatch):
            credit.update_balance(usd(12_345), 7, AT)
        assert (credit.receivables, credit.overdue_days) == (0, 0)

    def test_negative_overdue_days_are_refused(self) -> None:
        credit = account()
        with pytest.raises(ValidationFailed) as raised:
            credit.update_balance(inr(12_345), -1, AT)
        assert (raised.value.field, credit.receivables) == ("overdue_days", 0)


class TestOverdueBlock:
    def test_a_zero_day_block_does_not_hold_before_the_erp_reports_anything(self) -> None:
        credit = account(overdue_block_days=0)
        assert credit.overdue_days == 0
        assert not credit.is_overdue_blocked()
        assert credit.check(inr(100), ALL, TODAY).verdict is Verdict.APPROVED

    def test_a_zero_day_block_holds_once_anything_is_overdue(self) -> None:
        credit = account(overdue_block_days=0)
        credit.update_balance(inr(0), 1, AT)
        check = credit.check(inr(100), ALL, TODAY)
        assert (check.verdict, check.reason) == (Verdict.HOLD, HoldReason.OVERDUE)

    def test_holds_only_past_the_number_of_days(self) -> None:
        credit = account(overdue_block_days=30)
        credit.update_balance(inr(0), 30, AT)
        assert credit.check(inr(100), ALL, TODAY).approved
        credit.update_balance(inr(0), 31, AT)
        assert credit.check(inr(100), ALL, TODAY).reason is HoldReason.OVERDUE

    def test_a_negative_number_of_days_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as raised:
            account(overdue_block_days=-1)
        assert raised.value.field == "overdue_block_days"


class TestNewAccountDefaults:
    def test_a_new_account_is_clear_with_no_tolerance_and_everything_counted(self) -> None:
        credit = account(1_000)
        assert (credit.blocked, credit.block_reason, credit.receivables, credit.overdue_days) == (False, None, 0, 0)
        assert (credit.tolerance_pct, credit.ceiling(TODAY), credit.reserved) == (Decimal(0), 1_000, 0)
        assert CreditPolicy(count_receivables=True, count_open_orders=True, count_dispatched=True) == ALL
        check = credit.check(inr(1_000), ALL, TODAY)
        assert (check.verdict, check.reason, check.shortfall, check.available) == (
            Verdict.APPROVED,
            None,
            inr(0),
            inr(1_000),
        )


class TestAccountValidation:
    def test_a_negative_base_limit_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as raised:
            account(-1)
        assert raised.value.field == "credit_limit"

    def test_the_tolerance_is_read_as_a_decimal_of_zero_to_a_hundred_with_two_places(self) -> None:
        assert account(tolerance_pct="2.55").tolerance_pct == Decimal("2.55")
        assert account(tolerance_pct=100).ceiling(TODAY) == 2_000_000
        for bad in ("100.01", "2.555", "-0.01", "NaN"):
            with pytest.raises(ValidationFailed):
                account(tolerance_pct=bad)

    def test_set_tolerance_follows_the_same_rule(self) -> None:
        credit = account()
        credit.set_tolerance("99.99", **BY)
        assert credit.tolerance_pct == Decimal("99.99")
        with pytest.raises(ValidationFailed):
            credit.set_tolerance("100.5", **BY)
        assert credit.tolerance_pct == Decimal("99.99")

    def test_a_new_account_starts_at_version_zero(self) -> None:
        assert account().version == 0


class TestReserve:
    def test_a_reservation_by_the_check_is_not_marked_as_a_release(self) -> None:
        credit = account()
        assert credit.reserve("o1", inr(500), AT) is True
        assert credit.reserve("o1", inr(500), AT) is False  # the second time is a no-op
        credit.reserve("o2", inr(700), AT, by_release=True)
        assert (credit.reservations["o1"].by_release, credit.reservations["o2"].by_release) == (False, True)

    def test_another_currency_is_refused_and_reserves_nothing(self) -> None:
        credit = account()
        with pytest.raises(CurrencyMismatch):
            credit.reserve("o1", usd(500), AT)
        assert (credit.reservations, credit.reserved) == ({}, 0)

    def test_the_check_refuses_another_currency(self) -> None:
        with pytest.raises(CurrencyMismatch):
            account().check(usd(500), ALL, TODAY)


class TestPartlyReadAccount:
    def test_a_reservation_slipped_in_for_an_unread_order_is_caught_before_writing(self) -> None:
        full = account()
        full.reserve("o1", inr(500), AT)
        partly = account(reservations={}, loaded=frozenset({"o2"}), open_total=500, dispatched_total=0)
        partly.check_within_loaded()  # nothing outside what was read
        partly.reservations["o1"] = full.reservations["o1"]  # behind the methods' back
        with pytest.raises(ReservationNotLoaded) as raised:
            partly.check_within_loaded()
        assert (raised.value.customer_id, raised.value.order_id) == ("c1", "o1")

    def test_a_full_account_never_raises(self) -> None:
        credit = account()
        credit.reserve("o1", inr(500), AT)
        credit.check_within_loaded()


class TestBlock:
    def test_unblocking_clears_the_reason(self) -> None:
        credit = account()
        credit.block("cheque bounced", by="u-controller", at=AT)
        assert (credit.blocked, credit.block_reason) == (True, "cheque bounced")
        credit.unblock(**BY)
        assert (credit.blocked, credit.block_reason) == (False, None)


class TestCreditLimitRequest:
    def test_a_new_limit_in_another_currency_is_refused(self) -> None:
        with pytest.raises(CurrencyMismatch):
            CreditLimitRequest(
                id="r1",
                customer_id="c1",
                current_limit=inr(1_000),
                new_limit=usd(2_000),
                reason="bigger orders",
                requested_by="rep",
                requested_at=AT,
            )


class TestBalanceAsOf:
    """The ERP's time of the balance last applied (SPEC §5: an older balance must not replace newer figures)."""

    def test_only_a_strictly_older_balance_is_older(self) -> None:
        credit = account()
        assert credit.is_older_balance(AT) is False  # nothing applied yet
        credit.update_balance(inr(500), 0, AT, as_of=AT)
        assert credit.is_older_balance(AT - timedelta(seconds=1)) is True
        assert credit.is_older_balance(AT) is False  # the same moment: the ERP's last word wins
        assert credit.is_older_balance(None) is False  # a balance without a time cannot be told older

    def test_a_balance_of_the_same_moment_replaces_the_figures(self) -> None:
        credit = account()
        credit.update_balance(inr(500), 0, AT, as_of=AT)
        credit.update_balance(inr(700), 3, AT, as_of=AT)
        assert (credit.receivables, credit.overdue_days, credit.balance_as_of) == (700, 3, AT)

    def test_the_time_moves_only_forward_and_says_so(self) -> None:
        credit = account()
        assert credit.note_balance_as_of(AT) is True
        assert credit.note_balance_as_of(AT) is False  # the same time again: nothing moved
        assert credit.note_balance_as_of(AT - timedelta(days=1)) is False
        assert credit.balance_as_of == AT
        assert credit.note_balance_as_of(None) is False
        assert credit.note_balance_as_of(AT + timedelta(hours=1)) is True
        assert credit.balance_as_of == AT + timedelta(hours=1)

    def test_the_account_itself_refuses_an_older_balance(self) -> None:
        credit = account()
        credit.update_balance(inr(500), 0, AT, as_of=AT)
        with pytest.raises(ValidationFailed):
            credit.update_balance(inr(0), 0, AT, as_of=AT - timedelta(minutes=5))
        assert (credit.receivables, credit.balance_as_of) == (500, AT)


class TestWhatCountsAsARaise:
    """SPEC §2.3 credit governance at the account: a change that lets the customer owe more on any day needs an
    approval; one that does not, does not (killed survivors of `scripts/mutation.py credit`)."""

    WITHOUT = {"by": "u-admin", "reason": "review", "at": AT}  # no approval

    def test_setting_the_same_limit_again_needs_no_approval(self) -> None:
        credit = account(1_000)
        credit.set_limit(inr(1_000), **self.WITHOUT)
        with pytest.raises(CreditRaiseNeedsApproval):
            credit.set_limit(inr(1_001), **self.WITHOUT)

    def test_ending_early_a_temporary_limit_below_the_base_is_a_raise(self) -> None:
        credit = account(1_000)
        credit.set_temporary_limit(inr(500), date(2025, 3, 11), **self.WITHOUT)  # lower than the base: at once
        with pytest.raises(CreditRaiseNeedsApproval):  # from the 5th to the 11th it would be 1,000 instead of 500
            credit.set_temporary_limit(inr(500), date(2025, 3, 4), **self.WITHOUT)
        assert credit.temp_limit_until == date(2025, 3, 11)

    def test_extending_a_temporary_limit_above_the_base_is_a_raise_shortening_it_is_not(self) -> None:
        credit = account(1_000)
        credit.set_temporary_limit(inr(5_000), date(2025, 3, 4), **BY)
        with pytest.raises(CreditRaiseNeedsApproval):  # 5,000 instead of 1,000 from the 5th to the 11th
            credit.set_temporary_limit(inr(5_000), date(2025, 3, 11), **self.WITHOUT)
        credit.set_temporary_limit(inr(5_000), date(2025, 3, 2), **self.WITHOUT)
        assert credit.temp_limit_until == date(2025, 3, 2)

    def test_an_overdue_block_of_zero_days_is_a_block_not_a_raise(self) -> None:
        credit = account()
        credit.set_overdue_block(0, **self.WITHOUT)  # none before: blocking at any overdue tightens
        assert credit.overdue_block_days == 0
        credit.set_overdue_block(0, **self.WITHOUT)  # the same days again: no raise
        with pytest.raises(CreditRaiseNeedsApproval):
            credit.set_overdue_block(1, **self.WITHOUT)
        with pytest.raises(ValidationFailed):
            credit.set_overdue_block(-1, **BY)
