"""Issue 12, smaller findings on orders (SPEC §5 "Added after review"): the order channel follows from who places
it — a dealer's order is `dealer_app`, an agent's `call_center`, a rep's `field_app` — and a request naming another
is refused (400, nothing stored); an idempotency key is scoped to the user and the operation, so one key cannot
submit two different orders (409)."""

from __future__ import annotations

import pytest

from crm_domain.errors import ValidationFailed
from crm_domain.orders import Channel, LineRequest
from crm_domain.services.orders import NewOrder
from tests.api.conftest import Api, problem


def body(api: Api, **extra: object) -> dict[str, object]:
    return {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "submit": False, **extra}


class TestChannel:
    @pytest.mark.parametrize(
        ("who", "channel"), [("dealer", "dealer_app"), ("agent", "call_center"), ("rep", "field_app")]
    )
    def test_follows_from_the_role_of_who_places_it(self, api: Api, who: str, channel: str) -> None:
        user = getattr(api, who)
        assert api.order(user, submit=False)["channel"] == channel
        assert api.order(user, submit=False, channel=channel)["channel"] == channel

    @pytest.mark.parametrize(
        ("who", "claimed"),
        [("dealer", "call_center"), ("dealer", "web"), ("dealer", "import"), ("agent", "dealer_app"), ("rep", "web")],
    )
    def test_a_channel_that_would_lie_is_refused_and_nothing_is_stored(self, api: Api, who: str, claimed: str) -> None:
        user = getattr(api, who)
        answer = api.client.post("/api/v1/orders", json=body(api, channel=claimed), headers=api.login(user))
        assert problem(answer, 400, "validation_failed")["field"] == "channel"
        assert api.client.get("/api/v1/orders", headers=api.login(api.admin)).json()["items"] == []

    def test_someone_without_an_app_of_their_own_places_web_orders(self, api: Api) -> None:
        assert api.order(api.manager, submit=False)["channel"] == "web"
        answer = api.client.post("/api/v1/orders", json=body(api, channel="dealer_app"), headers=api.login(api.manager))
        assert problem(answer, 400)["field"] == "channel"

    def test_the_library_door_keeps_the_same_rule(self, api: Api) -> None:
        crm = api.container.crm
        new = NewOrder(
            customer_id=api.customer.id,
            lines=(LineRequest(sku="PMP-1", quantity="1"),),  # type: ignore[arg-type]
            channel=Channel.CALL_CENTER,
        )
        with pytest.raises(ValidationFailed) as refused:
            crm.orders.create(api.dealer.actor(), new)
        assert refused.value.field == "channel"


class TestIdempotencyKeyScope:
    def test_one_key_cannot_submit_two_orders(self, api: Api) -> None:
        first = api.order(api.rep, submit=False)
        second = api.order(api.rep, submit=False)
        key = {"Idempotency-Key": "submit-1", **api.login(api.rep)}
        submitted = api.client.post(f"/api/v1/orders/{first['id']}/submit", headers=key)
        assert submitted.status_code == 200, submitted.text
        reused = api.client.post(f"/api/v1/orders/{second['id']}/submit", headers=key)
        problem(reused, 409, "idempotency_key_reused")
        after = api.client.get(f"/api/v1/orders/{second['id']}", headers=api.login(api.rep)).json()
        assert after["status"] == "draft"

    def test_a_retry_of_the_same_submit_replays_it(self, api: Api) -> None:
        order = api.order(api.rep, submit=False)
        key = {"Idempotency-Key": "submit-2", **api.login(api.rep)}
        first = api.client.post(f"/api/v1/orders/{order['id']}/submit", headers=key)
        again = api.client.post(f"/api/v1/orders/{order['id']}/submit", headers=key)
        assert first.status_code == again.status_code == 200
        assert first.json()["status"] == again.json()["status"] == "submitted"
