"""The call log (SPEC §2.8): who may log and read calls, scope as the customer's, what a call must hold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_domain.errors import EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.interactions import CallOutcome, Direction
from crm_domain.records import PageRequest
from crm_domain.services.call_log import NewInteraction
from tests.unit.world import World

CALLBACK = NewInteraction(direction="in", outcome="callback", note="  call back after 4 pm\nre: pipes  ")


class TestLogACall:
    def test_the_agent_logs_a_call_for_any_dealer_at_the_current_time(self, world: World) -> None:
        call = world.crm.call_log.log(world.agent, world.outsider.id, CALLBACK)

        assert (call.customer_id, call.agent_id, call.at) == (world.outsider.id, world.agent.id, world.clock.now())
        assert (call.direction, call.outcome, call.order_id) == (Direction.IN, CallOutcome.CALLBACK, None)
        assert call.note == "call back after 4 pm\nre: pipes"
        assert world.crm.call_log.list(world.agent, world.outsider.id, PageRequest()).items == [call]

    def test_a_rep_logs_calls_of_their_own_dealers_only(self, world: World) -> None:
        world.crm.call_log.log(world.rep, world.customer.id, CALLBACK)

        with pytest.raises(EntityNotFound):
            world.crm.call_log.log(world.rep, world.outsider.id, CALLBACK)
        assert world.crm.call_log.list(world.admin, world.outsider.id, PageRequest()).items == []

    def test_the_call_can_name_the_order_it_produced(self, world: World) -> None:
        order = world.order_of("10.00")

        call = world.crm.call_log.log(
            world.agent, world.customer.id, NewInteraction(direction="out", outcome="order_placed", order_id=order.id)
        )

        assert call.order_id == order.id

    def test_an_order_of_another_customer_is_refused(self, world: World) -> None:
        order = world.order_of("10.00")

        with pytest.raises(ValidationFailed) as raised:
            world.crm.call_log.log(
                world.agent, world.customer2.id, NewInteraction(direction="out", outcome="enquiry", order_id=order.id)
            )
        assert raised.value.field == "order_id"
        assert world.crm.call_log.list(world.agent, world.customer2.id, PageRequest()).items == []

    @pytest.mark.parametrize(
        ("new", "field"),
        [
            (NewInteraction(direction="sideways", outcome="callback"), "direction"),
            (NewInteraction(direction="in", outcome="sold"), "outcome"),
            (NewInteraction(direction="in", outcome="callback", note="bell\x07"), "note"),
            (NewInteraction(direction="in", outcome="callback", note="x" * 2001), "note"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_logged(self, world: World, new: NewInteraction, field: str) -> None:
        with pytest.raises(ValidationFailed) as raised:
            world.crm.call_log.log(world.agent, world.customer.id, new)

        assert raised.value.field == field
        assert world.crm.call_log.list(world.agent, world.customer.id, PageRequest()).items == []

    def test_dealers_managers_and_credit_controllers_do_not_log_calls(self, world: World) -> None:
        for actor in (world.dealer, world.manager, world.controller):
            with pytest.raises(PermissionDenied):
                world.crm.call_log.log(actor, world.customer.id, CALLBACK)


class TestReadTheLog:
    def test_newest_first_for_everyone_whose_scope_holds_the_customer(self, world: World) -> None:
        first = world.crm.call_log.log(world.agent, world.customer.id, CALLBACK)
        world.clock.advance(timedelta(minutes=5))
        second = world.crm.call_log.log(world.rep, world.customer.id, CALLBACK)

        for actor in (world.agent, world.rep, world.manager, world.head, world.controller, world.admin):
            assert world.crm.call_log.list(actor, world.customer.id, PageRequest()).items == [second, first]

    def test_outside_scope_the_customer_is_not_found(self, world: World) -> None:
        for actor in (world.rep2, world.other_manager):
            with pytest.raises(EntityNotFound):
                world.crm.call_log.list(actor, world.customer.id, PageRequest())

    def test_a_dealer_does_not_read_the_notes_about_their_calls(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            world.crm.call_log.list(world.dealer, world.customer.id, PageRequest())
