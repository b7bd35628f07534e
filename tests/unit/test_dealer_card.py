"""The call-center portal's reads: finding the caller (by mobile in any format, code or name) and the dealer card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_domain.errors import EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.orders import OrderStatus
from crm_domain.search import TextQuery
from crm_domain.services.call_log import NewInteraction
from tests.unit.world import World

# world.customer ("D-RAVI", "Ravi Traders") has +919765400901; customer2 +919765400902; outsider +919765400903


class TestTheQuery:
    """The lookup is the one customer search (crm_domain.search): how it reads what the agent typed."""

    def test_a_whole_number_in_any_format_is_the_national_number(self) -> None:
        for typed in ("97654 00901", "097654 00901", "(0) 97654-00901", "97654.00901", "97654/00901"):
            assert TextQuery.parse(typed).digits == "9765400901", typed

    def test_international_forms_keep_the_country_code(self) -> None:
        for typed in ("+91 97654-00901", "(+91) 9765400901", "919765400901", "0091 97654 00901"):
            assert TextQuery.parse(typed).digits == "919765400901", typed

    def test_first_digits_are_a_prefix_of_either_form(self) -> None:
        query = TextQuery.parse("0976 54")
        assert query.digits == "97654"
        assert query.matches_mobile("+919765400901")
        assert TextQuery.parse("+1 415").matches_mobile("+14155550123")
        assert not TextQuery.parse("76540").matches_mobile("+919765400901")

    def test_three_digits_are_too_few_for_a_mobile(self) -> None:
        assert TextQuery.parse("976").digits is None

    def test_words_and_codes(self) -> None:
        assert TextQuery.parse("  Ravi  TRADERS ") == TextQuery(
            prefix="ravi  traders", words=("ravi", "traders"), digits=None
        )
        assert TextQuery.parse("d-ravi").matches_customer("D-RAVI", "Ravi Traders", "+919765400901")

    def test_control_characters_and_long_queries_are_refused(self, world: World) -> None:
        for bad in ("ravi\x00", "x" * 101):
            with pytest.raises(ValidationFailed):
                world.crm.dealer_cards.lookup(world.agent, bad)


class TestLookup:
    def test_by_mobile_code_or_name(self, world: World) -> None:
        cards = world.crm.dealer_cards
        assert [c.code for c in cards.lookup(world.agent, "+91 97654 00902")] == ["D-REKHA"]
        assert [c.code for c in cards.lookup(world.agent, "976540090")] == ["D-OMAR", "D-RAVI", "D-REKHA"]
        assert [c.code for c in cards.lookup(world.agent, "d-re")] == ["D-REKHA"]
        assert [c.code for c in cards.lookup(world.agent, "omar dist")] == ["D-OMAR"]
        assert cards.lookup(world.agent, "   ") == []

    def test_mobile_matches_come_before_code_and_name_matches(self, world: World) -> None:
        world.new_customer(code="97654009-SHOP")  # its mobile is +919765400001

        found = world.crm.dealer_cards.lookup(world.agent, "97654009")

        assert [c.code for c in found] == ["D-OMAR", "D-RAVI", "D-REKHA", "97654009-SHOP"]

    def test_only_customers_in_scope(self, world: World) -> None:
        assert [c.code for c in world.crm.dealer_cards.lookup(world.rep, "976540090")] == ["D-RAVI"]
        assert [c.code for c in world.crm.dealer_cards.lookup(world.dealer, "d-")] == ["D-RAVI"]

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )  # lookups change nothing
    @given(
        style=st.sampled_from(["{n}", "+91{n}", "0{n}", "+91 {a} {b}", "{a}-{b}", "91{n}", "(0) {a} {b}"]),
        which=st.sampled_from([0, 1, 2]),
    )
    def test_every_way_of_writing_a_dealers_mobile_finds_that_dealer_first(
        self, world: World, style: str, which: int
    ) -> None:
        dealer = [world.customer, world.customer2, world.outsider][which]
        national = dealer.mobile.removeprefix("+91")
        typed = style.format(n=national, a=national[:5], b=national[5:])

        assert world.crm.dealer_cards.lookup(world.agent, typed)[0] == dealer


class TestDealerCard:
    def test_credit_orders_and_calls_of_the_dealer(self, world: World) -> None:
        orders = []
        for n in range(7):
            world.clock.advance(timedelta(minutes=1))
            orders.append(world.order_of(f"{n + 1}00.00"))
        world.crm.orders.cancel(world.rep, orders[0].id, "duplicate")
        calls = []
        for _ in range(6):
            world.clock.advance(timedelta(minutes=1))
            calls.append(
                world.crm.call_log.log(
                    world.agent, world.customer.id, NewInteraction(direction="in", outcome="enquiry")
                )
            )

        card = world.crm.dealer_cards.card(world.agent, world.customer.id)

        assert card.customer == world.customer
        assert card.credit.available == world.available()
        assert card.credit.exposure.decimal_string() == "2700.00"  # 200 + … + 700: the cancelled one is free
        assert [o.id for o in card.open_orders] == [o.id for o in orders[1:]]
        assert card.open_count == 6
        assert [o.id for o in card.last_orders] == [o.id for o in reversed(orders[2:])]
        assert card.last_order is not None and card.last_order.id == orders[-1].id
        assert [c.id for c in card.recent_calls] == [c.id for c in reversed(calls[1:])]

    def test_a_new_dealer_has_an_empty_card(self, world: World) -> None:
        card = world.crm.dealer_cards.card(world.agent, world.customer2.id)

        assert (card.open_orders, card.last_orders, card.recent_calls, card.last_order) == ([], [], [], None)

    def test_a_dealer_sees_their_own_card_without_the_call_log(self, world: World) -> None:
        world.crm.call_log.log(world.agent, world.customer.id, NewInteraction(direction="in", outcome="complaint"))

        card = world.crm.dealer_cards.card(world.dealer, world.customer.id)

        assert card.recent_calls == []
        assert card.open_count == 0

    def test_outside_scope_is_not_found(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.dealer_cards.card(world.rep, world.outsider.id)
        with pytest.raises(PermissionDenied):
            world.crm.dealer_cards.lookup(world.controller.__class__(id="x", roles=frozenset()), "ravi")

    def test_held_orders_count_as_open(self, world: World) -> None:
        held = world.order_of("20000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD

        assert [o.id for o in world.crm.dealer_cards.card(world.agent, world.customer.id).open_orders] == [held.id]
