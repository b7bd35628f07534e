"""POST /api/v1/integrations/{erp}/events (SPEC §4, §5, §8): the ERP's order status, invoices and balances,
authenticated by an HMAC signature over the timestamp and the raw body, never by a user token."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar.testing import TestClient

from adapters.erp.sandbox import SandboxErpGateway
from adapters.system import FixedClock
from crm_domain.services.erp_sync import erp_order_request
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.http.controllers.integrations import sign
from entrypoints.settings import Settings
from tests.api.conftest import Api, problem

SECRET = "erp-webhook-" + "s" * 40
URL = "/api/v1/integrations/sandbox/events"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def make_api(tmp_path: Path, clock: FixedClock, secret: str | None = SECRET) -> Iterator[Api]:
    settings = Settings(
        database_url="memory://",
        data_dir=tmp_path,
        jwt_secret="x" * 48,  # type: ignore[arg-type]
        erp_webhook_secret=secret,  # type: ignore[arg-type]
    )
    container = bootstrap(settings, clock=clock)
    with TestClient(create_app(container)) as client:
        yield Api(container, client, tmp_path / "sms.jsonl")


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    yield from make_api(tmp_path, clock)


def send(
    api: Api,
    clock: FixedClock,
    body: Any,
    *,
    url: str = URL,
    secret: str = SECRET,
    skew: int = 0,
    tamper: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(clock.now().timestamp()) + skew)
    signature = sign(secret.encode(), timestamp, raw)
    if tamper:
        raw = raw.replace(b"invoiced", b"delivered") if b"invoiced" in raw else raw + b" "
    sent = {"Content-Type": "application/json", "X-CRM-Timestamp": timestamp, "X-CRM-Signature": signature}
    if headers is not None:
        sent = {"Content-Type": "application/json", **headers}
    return api.client.post(url, content=raw, headers=sent)


def order_state(api: Api, order_id: str) -> dict[str, Any]:
    return dict(api.client.get(f"/api/v1/orders/{order_id}", headers=api.login(api.admin)).json())


def credit(api: Api) -> dict[str, Any]:
    response = api.client.get(f"/api/v1/customers/{api.customer.id}/credit", headers=api.login(api.admin))
    return dict(response.json())


_EVENT_IDS = itertools.count(1)


def event_id() -> str:
    """A new ERP event id (the webhook requires one on every event)."""
    return f"evt-{next(_EVENT_IDS)}"


def status_event(order: dict[str, Any], state: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "order.status",
        "id": event_id(),
        "external_ref": order["id"],
        "erp_order_id": "SBX-1",
        "state": state,
        **extra,
    }


class TestSignature:
    def test_a_signed_event_is_applied(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        response = send(api, clock, status_event(order, "open"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["applied"], body["rejected"]) == (1, 0)
        assert (body["results"][0]["outcome"], body["results"][0]["status"]) == ("applied", "confirmed")
        state = order_state(api, order["id"])
        assert (state["status"], state["erp_order_id"]) == ("confirmed", "SBX-1")

    @pytest.mark.parametrize(
        "how",
        ["tampered body", "wrong secret", "stale", "from the future", "missing", "no timestamp", "malformed"],
    )
    def test_a_bad_or_missing_signature_is_401_and_changes_nothing(self, api: Api, clock: FixedClock, how: str) -> None:
        order = api.order(api.rep)
        event = status_event(order, "invoiced")
        if how == "tampered body":
            response = send(api, clock, event, tamper=True)
        elif how == "wrong secret":
            response = send(api, clock, event, secret="another-secret-" + "x" * 30)
        elif how == "stale":
            response = send(api, clock, event, skew=-301)
        elif how == "from the future":
            response = send(api, clock, event, skew=301)
        elif how == "missing":
            response = send(api, clock, event, headers={})
        elif how == "no timestamp":
            raw = json.dumps(event).encode()
            ts = str(int(clock.now().timestamp()))
            response = send(api, clock, event, headers={"X-CRM-Signature": sign(SECRET.encode(), ts, raw)})
        else:
            response = send(api, clock, event, headers={"X-CRM-Timestamp": "soon", "X-CRM-Signature": "md5=abc"})
        body = problem(response, 401)
        assert body["code"] == "signature_refused"
        assert SECRET not in response.text
        assert "www-authenticate" in response.headers
        assert order_state(api, order["id"])["status"] == "submitted"

    def test_a_timestamp_within_five_minutes_is_accepted(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        assert send(api, clock, status_event(order, "open"), skew=-299).status_code == 200

    def test_a_user_token_is_no_substitute_for_the_signature(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        response = api.client.post(URL, json=status_event(order, "open"), headers=api.login(api.admin))
        problem(response, 401)
        assert order_state(api, order["id"])["status"] == "submitted"

    def test_without_a_configured_secret_every_call_is_refused(self, tmp_path: Path, clock: FixedClock) -> None:
        for api in make_api(tmp_path, clock, secret=None):
            order = api.order(api.rep)
            body = problem(send(api, clock, status_event(order, "open"), secret=""), 401)
            assert "not configured" in body["detail"]

    def test_an_unknown_erp_is_404(self, api: Api, clock: FixedClock) -> None:
        problem(send(api, clock, {"type": "x"}, url="/api/v1/integrations/oracle/events"), 404)


class TestBadBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[]",
            {"type": "order.shipped", "external_ref": "x", "state": "open"},
            {"type": "order.status", "external_ref": "x", "state": "lost"},
            {"type": "order.status", "external_ref": "x", "state": "open", "colour": "red"},
            {"type": "customer.balance", "customer_code": "D0001", "receivables": 100},
            {"type": "customer.balance", "customer_code": "D0001", "receivables": "1.234"},
            {"type": "customer.balance", "customer_code": "D0001", "receivables": "1.00", "overdue_days": "5"},
            {"type": "customer.balance", "customer_code": {"$gt": ""}, "receivables": "1.00"},
            {"type": "order.status", "external_ref": "x", "state": "open", "changed_at": "2026-11-02T10:00:00"},
            {"events": []},
            {"events": [{"type": "customer.balance", "customer_code": "D0001", "receivables": "1.00"}] * 501},
        ],
        ids=lambda b: (b if isinstance(b, bytes) else json.dumps(b))[:60],
    )
    def test_a_malformed_signed_body_is_400_and_nothing_is_applied(
        self, api: Api, clock: FixedClock, body: Any
    ) -> None:
        response = send(api, clock, body)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert credit(api)["receivables"] == "0.00"

    def test_an_event_without_any_order_reference_is_rejected_alone(self, api: Api, clock: FixedClock) -> None:
        balance = {"type": "customer.balance", "id": event_id(), "customer_code": "D0001", "receivables": "100.00"}
        response = send(api, clock, {"events": [{"type": "order.status", "id": event_id(), "state": "open"}, balance]})
        assert response.status_code == 200, response.text
        first, second = response.json()["results"]
        assert (first["outcome"], first["code"]) == ("rejected", "validation_failed")
        assert second["outcome"] == "applied"


class TestEvents:
    def test_a_batch_moves_the_order_and_the_credit(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep, quantity="2")  # 991.20
        body = {
            "events": [
                status_event(order, "invoiced", invoice_number="INV-1", invoiced_amount="991.20"),
                {
                    "type": "customer.balance",
                    "id": event_id(),
                    "customer_code": "D0001",
                    "receivables": "2500.00",
                    "overdue_days": 4,
                },
                {
                    "type": "order.status",
                    "id": event_id(),
                    "external_ref": "01NOSUCHORDER",
                    "erp_order_id": "SBX-9",
                    "state": "open",
                },
            ]
        }
        response = send(api, clock, body)
        assert response.status_code == 200, response.text
        out = response.json()
        assert (out["applied"], out["rejected"]) == (2, 1)
        assert out["results"][0]["steps"] == ["confirmed", "dispatched", "invoiced"]
        assert (out["results"][2]["outcome"], out["results"][2]["code"]) == ("rejected", "not_found")
        assert order_state(api, order["id"])["status"] == "invoiced"
        position = credit(api)
        assert (position["receivables"], position["open_orders"], position["exposure"]) == (
            "2500.00",
            "0.00",
            "2500.00",
        )

    def test_invoicing_alone_moves_the_amount_into_receivables(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)  # 495.60
        before = credit(api)
        assert send(api, clock, status_event(order, "invoiced")).status_code == 200
        after = credit(api)
        assert (after["receivables"], after["open_orders"]) == ("495.60", "0.00")
        assert after["exposure"] == before["exposure"] == "495.60"

    def test_a_payment_releases_a_held_order(self, api: Api, clock: FixedClock) -> None:
        balance = {"type": "customer.balance", "id": event_id(), "customer_code": "D0001", "receivables": "9000.00"}
        assert send(api, clock, balance).json()["applied"] == 1
        held = api.order(api.rep, quantity="3")  # 1486.80 does not fit 1000.00
        assert held["status"] == "on_credit_hold"
        paid = send(api, clock, {**balance, "id": event_id(), "receivables": "1000.00"}).json()
        assert paid["results"][0]["released"] == [held["id"]]
        assert order_state(api, held["id"])["status"] == "submitted"

    def test_an_order_named_only_by_the_erp_id_is_found_through_the_erp(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        sandbox = api.container.sandbox
        assert isinstance(sandbox, SandboxErpGateway)
        crm = api.container.crm
        stored = crm.orders.get(api.admin.actor(), order["id"])
        ack = sandbox.create_order(erp_order_request(stored, api.customer, {}))
        response = send(
            api,
            clock,
            {"type": "order.status", "id": event_id(), "erp_order_id": ack.erp_order_id, "state": "dispatched"},
        )
        assert response.json()["results"][0]["outcome"] == "applied", response.text
        state = order_state(api, order["id"])
        assert (state["status"], state["erp_order_id"]) == ("dispatched", ack.erp_order_id)
        unknown = send(
            api, clock, {"type": "order.status", "id": event_id(), "erp_order_id": "SBX-404", "state": "dispatched"}
        )
        assert unknown.json()["results"][0]["outcome"] == "rejected"

    def test_cancelled_in_the_erp_cancels_a_confirmed_order(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        send(api, clock, status_event(order, "open"))
        result = send(api, clock, status_event(order, "cancelled")).json()["results"][0]
        assert (result["outcome"], result["status"]) == ("applied", "cancelled")
        assert credit(api)["open_orders"] == "0.00"
        late = send(api, clock, status_event(order, "dispatched")).json()["results"][0]
        assert (late["outcome"], late["code"]) == ("rejected", "invalid_transition")


class TestReplays:
    def test_the_same_request_again_changes_nothing(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        event = status_event(order, "invoiced")
        assert send(api, clock, event).json()["applied"] == 1
        before = (order_state(api, order["id"]), credit(api))
        clock.advance(timedelta(seconds=30))
        again = send(api, clock, event).json()
        assert (again["applied"], again["duplicate"]) == (0, 1)
        resent = send(api, clock, {**event, "id": event_id()}).json()  # the same state under another id
        assert (resent["applied"], resent["unchanged"]) == (0, 1)
        assert (order_state(api, order["id"]), credit(api)) == before

    def test_an_event_id_is_applied_once(self, api: Api, clock: FixedClock) -> None:
        event = {"type": "customer.balance", "id": "evt-42", "customer_code": "D0001", "receivables": "100.00"}
        assert send(api, clock, event).json()["applied"] == 1
        # The customer pays meanwhile; a replay of the old event must not bring the old figure back.
        assert send(api, clock, {**event, "id": "evt-43", "receivables": "0.00"}).json()["applied"] == 1
        replay = send(api, clock, event).json()
        assert replay["duplicate"] == 1
        assert credit(api)["receivables"] == "0.00"
        reused = send(api, clock, {**event, "receivables": "5.00"}).json()["results"][0]
        assert (reused["outcome"], reused["code"]) == ("rejected", "conflict")


def test_the_route_is_documented_with_its_own_security_scheme(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    operation = spec["paths"]["/api/v1/integrations/{erp}/events"]["post"]
    assert operation["operationId"] == "receiveErpEvents"
    assert operation["security"] == [{"ErpSignature": []}]
    scheme = spec["components"]["securitySchemes"]["ErpSignature"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-CRM-Signature")
    assert "requestBody" in operation and "200" in operation["responses"]
