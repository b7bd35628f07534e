"""Who may call what, over HTTP (SPEC §2.2, §4): every route of the OpenAPI schema × every role.

The routes come from `GET /schema/openapi.json` at collection time, so a new route cannot slip past: it fails
here until `NEEDS` says which permission it needs. `NEEDS` is the expectation written out as data; the outcome
each role should get is derived from `ROLE_PERMISSIONS`, the domain's one table. Each role gets a world of its
own in which every route acts on objects of its own (a held order per credit-hold action, a request per
decision), so an allowed call is a plain 2xx, and a refused one is a 403 problem.

Scope comes on top: a sales rep, a dealer and a manager outside the line get 404, never 403, for another
customer's customer, credit, orders and order actions.
"""

from __future__ import annotations

import re
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar.testing import TestClient

from adapters.system import FixedClock
from crm_domain.money import Money
from crm_domain.orders import Attachment, LineRequest
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.users import ROLE_PERMISSIONS, Permission, Role, User
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api, problem

P = Permission
SIGNED_IN: frozenset[Permission] = frozenset()
SECRET = "rbac-matrix-" + "k" * 40
START = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

#: "METHOD path" (as the OpenAPI schema writes it) -> the permissions of which one is needed; SIGNED_IN: any
#: signed-in user. A `#variant` suffix names a body of the same route that needs another permission.
NEEDS: dict[str, frozenset[Permission]] = {
    "POST /api/v1/auth/logout": SIGNED_IN,
    "GET /api/v1/auth/me": SIGNED_IN,
    "GET /api/v1/users": SIGNED_IN,  # everyone sees at least themselves
    "POST /api/v1/users": frozenset({P.USER_MANAGE}),
    "GET /api/v1/users/{user_id}": SIGNED_IN,
    "PATCH /api/v1/users/{user_id}": frozenset({P.USER_MANAGE}),
    "GET /api/v1/customers": frozenset({P.CUSTOMER_READ}),
    "POST /api/v1/customers": frozenset({P.CUSTOMER_WRITE}),
    "GET /api/v1/customers/{customer_id}": frozenset({P.CUSTOMER_READ}),
    "PATCH /api/v1/customers/{customer_id}": frozenset({P.CUSTOMER_WRITE}),
    "PATCH /api/v1/customers/{customer_id}#credit_limit": frozenset({P.CREDIT_LIMIT_SET}),
    "PATCH /api/v1/customers/{customer_id}#tolerance_pct": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "PATCH /api/v1/customers/{customer_id}#overdue_block_days": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "GET /api/v1/customers/{customer_id}/credit": frozenset({P.CREDIT_READ}),
    "GET /api/v1/customers/{customer_id}/credit/history": frozenset({P.CREDIT_READ}),
    "POST /api/v1/customers/{customer_id}/credit/temporary-limit": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "POST /api/v1/customers/{customer_id}/credit/block": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "POST /api/v1/customers/{customer_id}/credit/unblock": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "POST /api/v1/customers/{customer_id}/credit-limit-requests": frozenset({P.CREDIT_LIMIT_REQUEST}),
    "GET /api/v1/customers/{customer_id}/interactions": frozenset({P.INTERACTION_READ}),
    "POST /api/v1/customers/{customer_id}/interactions": frozenset({P.INTERACTION_LOG}),
    "GET /api/v1/credit-limit-requests": frozenset({P.CREDIT_LIMIT_REQUEST, P.CREDIT_LIMIT_APPROVE}),
    "GET /api/v1/credit-limit-requests/{request_id}": frozenset({P.CREDIT_LIMIT_REQUEST, P.CREDIT_LIMIT_APPROVE}),
    "POST /api/v1/credit-limit-requests/{request_id}/approve": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "POST /api/v1/credit-limit-requests/{request_id}/reject": frozenset({P.CREDIT_LIMIT_APPROVE}),
    "GET /api/v1/products": frozenset({P.PRODUCT_READ}),
    "POST /api/v1/products": frozenset({P.PRODUCT_WRITE}),
    "GET /api/v1/products/{sku}": frozenset({P.PRODUCT_READ}),
    "PATCH /api/v1/products/{sku}": frozenset({P.PRODUCT_WRITE}),
    "GET /api/v1/orders": frozenset({P.ORDER_READ}),
    "POST /api/v1/orders": frozenset({P.ORDER_CREATE}),
    "POST /api/v1/orders#submit": frozenset({P.ORDER_SUBMIT}),  # with order:create, which every submitter has
    "POST /api/v1/orders/quote": frozenset({P.ORDER_CREATE}),
    "GET /api/v1/orders/{order_id}": frozenset({P.ORDER_READ}),
    "POST /api/v1/orders/{order_id}/submit": frozenset({P.ORDER_SUBMIT}),
    "POST /api/v1/orders/{order_id}/release": frozenset({P.ORDER_RELEASE}),
    "POST /api/v1/orders/{order_id}/reject": frozenset({P.ORDER_RELEASE}),
    "POST /api/v1/orders/{order_id}/cancel": frozenset({P.ORDER_CANCEL}),
    "POST /api/v1/orders/{order_id}/attachments": frozenset({P.ORDER_CREATE}),
    "GET /api/v1/orders/{order_id}/attachments/{attachment_id}": frozenset({P.ORDER_READ}),
    "GET /api/v1/targets": frozenset({P.TARGET_READ}),
    "PUT /api/v1/targets": frozenset({P.TARGET_WRITE}),
    "GET /api/v1/performance": frozenset({P.PERFORMANCE_READ}),
    "GET /api/v1/performance/leaderboard": frozenset({P.PERFORMANCE_READ}),
    "GET /api/v1/performance/trend": frozenset({P.PERFORMANCE_READ}),
    "GET /api/v1/reports/sales": frozenset({P.REPORT_READ}),
    "GET /api/v1/reports/credit-exposure": frozenset({P.CREDIT_READ}),
    "GET /api/v1/reports/credit-holds": frozenset({P.ORDER_RELEASE}),
    "GET /api/v1/customers/{customer_id}/statement": frozenset({P.CREDIT_READ}),
}
PLANNED: set[str] = set()  # SPEC §4 routes not served yet: checked as soon as they appear in the schema

#: Outside the signed-in world: anyone may call these.
PUBLIC = re.compile(r"^(/health/|/metrics$|/schema|/api/v1/auth/otp/|/api/v1/auth/refresh$)")
#: Called by the ERPs, authenticated by an HMAC signature of the body rather than by a user's token.
SIGNED_BY_ERP = re.compile(r"^/api/v1/integrations/")

ROLE_USERS = {
    Role.ADMIN: "admin",
    Role.SALES_MANAGER: "manager",
    Role.SALES_REP: "rep",
    Role.DEALER: "dealer",
    Role.CALL_CENTER_AGENT: "agent",
    Role.CREDIT_CONTROLLER: "controller",
}


def schema_routes() -> list[str]:
    """Every "METHOD path" the served OpenAPI document lists, read once at collection time."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url="memory://", data_dir=Path(data_dir), jwt_secret=SECRET)  # type: ignore[arg-type]
        with TestClient(create_app(bootstrap(settings))) as client:
            response = client.get("/schema/openapi.json")
            assert response.status_code == 200, response.text
            paths: dict[str, dict[str, Any]] = response.json()["paths"]
    methods = {"get", "put", "post", "patch", "delete"}
    return sorted(f"{m.upper()} {path}" for path, ops in paths.items() for m in ops if m in methods)


ROUTES = schema_routes()
PUBLIC_ROUTES = [r for r in ROUTES if PUBLIC.match(r.split(" ", 1)[1])]
ERP_ROUTES = [r for r in ROUTES if SIGNED_BY_ERP.match(r.split(" ", 1)[1])]
PROTECTED = [r for r in ROUTES if r not in PUBLIC_ROUTES and r not in ERP_ROUTES]
#: The protected routes, plus the body variants of those routes that `NEEDS` lists.
CASES = sorted(PROTECTED + [key for key in NEEDS if "#" in key and key.split("#")[0] in PROTECTED])


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


# --- the world -----------------------------------------------------------------------------------------------


@dataclass
class World:
    api: Api
    clock: FixedClock
    ids: dict[str, str] = field(default_factory=dict)

    def user(self, role: Role) -> User:
        user: User = getattr(self.api, ROLE_USERS[role])
        return user

    def fresh_session(self, role: Role) -> dict[str, str]:
        """A second session of the role's user (the OTP resend interval is waited out on the test's clock)."""
        self.clock.advance(timedelta(seconds=31))
        pair = self.api.sign_in(self.user(role))
        return {"Authorization": f"Bearer {pair['access_token']}"}


def build_world(data_dir: Path) -> Iterator[World]:
    clock = FixedClock(START)
    settings = Settings(database_url="memory://", data_dir=data_dir, jwt_secret=SECRET)  # type: ignore[arg-type]
    container = bootstrap(settings, clock=clock)
    with TestClient(create_app(container)) as client:
        world = World(Api(container, client, data_dir / "sms.jsonl"), clock)
        add_objects(world)
        yield world


def place(world: World, by: User, customer_id: str, quantity: str, *, submit: bool) -> str:
    """An order of PMP-1 placed through the service; its id."""
    lines = (LineRequest(sku="PMP-1", quantity=Decimal(quantity)),)
    new = NewOrder(customer_id=customer_id, lines=lines, submit=submit)
    return world.api.container.crm.orders.create(by.actor(), new).id


def attach_png(world: World, by: User, order_id: str) -> str:
    """A PNG attached to the order (bytes in the file store, record on the order); the attachment's id."""
    container, content = world.api.container, png()
    attachment = Attachment(
        id=container.crm.ctx.ids.new_id(),
        filename="photo.png",
        content_type="image/png",
        size=len(content),
        uploaded_by=by.id,
        uploaded_at=container.crm.ctx.now(),
    )
    container.files.put(f"orders/{order_id}/{attachment.id}", content, "image/png")
    container.crm.orders.add_attachment(by.actor(), order_id, attachment)
    return attachment.id


def add_objects(world: World) -> None:
    """One object per action that changes it, so no call in the matrix is spoilt by another one."""
    api, crm = world.api, world.api.container.crm
    admin, head = api.admin.actor(), api.head.actor()
    cid = api.customer.id

    # 30 × 420.00 + 18% = 14868.00 does not fit the 10000.00 limit: each of these is on credit hold.
    held = {
        name: place(world, api.rep, cid, "30", submit=True) for name in ("held", "to_release", "to_reject", "to_cancel")
    }
    line_customer = crm.customers.create(
        admin,
        NewCustomer(
            code="D0003",
            name="Kota Tools",
            mobile="+919100000003",
            credit_limit=Money.of("5000.00", "INR"),
            assigned_rep_id=api.rep.id,
        ),
    ).customer
    # Approving asks for 11000.00: still too little for a held order, so no hold is released on the way.
    to_approve = crm.credit.request_limit_change(head, cid, Money.of("11000.00", "INR"), "a good season")
    to_reject = crm.credit.request_limit_change(head, line_customer.id, Money.of("9000.00", "INR"), "new shop")
    world.ids = {
        "customer_id": cid,
        "order_id": held["held"],
        **{f"order_{name}": oid for name, oid in held.items()},
        "order_draft": place(world, api.rep, cid, "1", submit=False),
        "attachment_id": attach_png(world, api.rep, held["held"]),
        "request_to_approve": to_approve.id,
        "request_id": to_reject.id,
        "never_blocked_customer_id": line_customer.id,
        "sku": "PMP-1",
        "rep_id": api.rep.id,
    }


# --- how each route is called --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    path: dict[str, str] = field(default_factory=dict)  # path parameters beyond the world's defaults
    params: dict[str, str] | None = None
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None


LINES = [{"sku": "PMP-1", "quantity": "1"}]
PERIOD = {"period": "2026-11"}

CALLS: dict[str, Callable[[World, Role], Call]] = {
    "GET /api/v1/users/{user_id}": lambda w, role: Call(path={"user_id": w.user(role).id}),
    "POST /api/v1/users": lambda _w, _r: Call(
        json={"mobile": "+919000000099", "name": "Nina New", "roles": ["sales_rep"]}
    ),
    "PATCH /api/v1/users/{user_id}": lambda w, _r: Call(path={"user_id": w.ids["rep_id"]}, json={"name": "Ravi R"}),
    "POST /api/v1/customers": lambda _w, _r: Call(
        json={
            "code": "D0099",
            "name": "Nashik Farm Supply",
            "mobile": "+919100000099",
            "territory": "West",
            "currency": "INR",
            "erp_system": "sandbox",
            "credit_limit": "5000.00",
        }
    ),
    "PATCH /api/v1/customers/{customer_id}": lambda _w, _r: Call(json={"name": "Jaipur Agro Ltd"}),
    "PATCH /api/v1/customers/{customer_id}#credit_limit": lambda _w, _r: Call(
        json={"credit_limit": "9500.00", "reason": "audited accounts"}  # lower: a raise is a request
    ),
    "PATCH /api/v1/customers/{customer_id}#tolerance_pct": lambda _w, _r: Call(
        json={"tolerance_pct": "0", "reason": "long-standing dealer"}  # not higher: a raise is a request
    ),
    "PATCH /api/v1/customers/{customer_id}#overdue_block_days": lambda _w, _r: Call(
        json={"overdue_block_days": 60, "reason": "policy"}
    ),
    "POST /api/v1/customers/{customer_id}/credit/temporary-limit": lambda _w, _r: Call(
        json={"amount": "8000.00", "valid_until": "2026-12-31", "reason": "trial"}  # under the limit: lowers it
    ),
    "POST /api/v1/customers/{customer_id}/credit/block": lambda _w, _r: Call(json={"reason": "cheque bounced"}),
    # on a customer never blocked it changes nothing (unblocking a blocked one is a request)
    "POST /api/v1/customers/{customer_id}/credit/unblock": lambda w, _r: Call(
        path={"customer_id": w.ids["never_blocked_customer_id"]}, json={"reason": "paid"}
    ),
    "POST /api/v1/customers/{customer_id}/credit-limit-requests": lambda _w, _r: Call(
        json={"new_limit": "10800.00", "reason": "more orders"}
    ),
    "POST /api/v1/customers/{customer_id}/interactions": lambda _w, _r: Call(
        json={"direction": "in", "outcome": "enquiry", "note": "price of pumps"}
    ),
    "POST /api/v1/credit-limit-requests/{request_id}/approve": lambda w, _r: Call(
        path={"request_id": w.ids["request_to_approve"]}, json={"note": "fine"}
    ),
    "POST /api/v1/credit-limit-requests/{request_id}/reject": lambda _w, _r: Call(json={"note": "not now"}),
    "POST /api/v1/products": lambda _w, _r: Call(
        json={"sku": "NEW-1", "name": "Foot valve", "unit_price": "10.00", "currency": "INR", "tax_rate": "18.00"}
    ),
    "PATCH /api/v1/products/{sku}": lambda _w, _r: Call(json={"name": "Pump 1 HP (2026)"}),
    "POST /api/v1/orders": lambda w, _r: Call(json={"customer_id": w.ids["customer_id"], "lines": LINES}),
    "POST /api/v1/orders#submit": lambda w, _r: Call(
        json={"customer_id": w.ids["customer_id"], "lines": LINES, "submit": True}
    ),
    "POST /api/v1/orders/quote": lambda w, _r: Call(json={"customer_id": w.ids["customer_id"], "lines": LINES}),
    "POST /api/v1/orders/{order_id}/submit": lambda w, _r: Call(path={"order_id": w.ids["order_draft"]}),
    "POST /api/v1/orders/{order_id}/release": lambda w, _r: Call(
        path={"order_id": w.ids["order_to_release"]}, json={"note": "cheque received"}
    ),
    "POST /api/v1/orders/{order_id}/reject": lambda w, _r: Call(
        path={"order_id": w.ids["order_to_reject"]}, json={"reason": "too much"}
    ),
    "POST /api/v1/orders/{order_id}/cancel": lambda w, _r: Call(
        path={"order_id": w.ids["order_to_cancel"]}, json={"reason": "dealer changed plans"}
    ),
    "POST /api/v1/orders/{order_id}/attachments": lambda _w, _r: Call(
        files={"file": ("signed-order.png", png(), "image/png")}
    ),
    "GET /api/v1/targets": lambda _w, _r: Call(params=PERIOD),
    "PUT /api/v1/targets": lambda w, _r: Call(json={"user_id": w.ids["rep_id"], "amount": "100000.00", **PERIOD}),
    "GET /api/v1/performance": lambda _w, _r: Call(params=PERIOD),
    "GET /api/v1/performance/leaderboard": lambda _w, _r: Call(params=PERIOD),
    "GET /api/v1/reports/sales": lambda _w, _r: Call(params={"from": "2026-11-01", "to": "2026-11-30"}),
}


def send(world: World, role: Role, case: str, headers: dict[str, str] | None) -> Response:
    method, template = case.split("#", maxsplit=1)[0].split(" ", 1)
    call = CALLS[case](world, role) if case in CALLS else Call()
    path = re.sub(r"\{(\w+)\}", lambda m: {**world.ids, **call.path}[m.group(1)], template)
    return world.api.client.request(
        method, path, params=call.params, json=call.json, files=call.files, headers=headers or {}
    )


def allowed(role: Role, case: str) -> bool:
    needed = NEEDS[case]
    return not needed or bool(needed & ROLE_PERMISSIONS[role])


# --- the table itself ----------------------------------------------------------------------------------------


class TestTheTable:
    def test_every_served_route_is_public_signed_or_has_an_expectation(self) -> None:
        assert len(ROUTES) > 30  # the schema was read
        missing = [route for route in PROTECTED if route not in NEEDS]
        assert missing == [], "write down in NEEDS which permission these routes need"

    def test_every_expectation_is_for_a_served_or_planned_route(self) -> None:
        stale = [key for key in NEEDS if key.split("#")[0] not in ROUTES and key not in PLANNED]
        assert stale == []

    def test_no_public_route_is_in_the_table(self) -> None:
        assert not [key for key in NEEDS if PUBLIC.match(key.split(" ", 1)[1].split("#")[0])]

    @pytest.mark.parametrize("role", list(Role))
    def test_every_role_is_both_allowed_and_refused_something(self, role: Role) -> None:
        # Guards the table from turning vacuous: admin holds every permission; everyone else lacks some.
        outcomes = {allowed(role, case) for case in CASES}
        assert outcomes == ({True} if role is Role.ADMIN else {True, False})
        assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)


# --- public, ERP-signed and unauthenticated --------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the calls that change nothing (refused or unauthenticated ones)."""
    yield from build_world(tmp_path_factory.mktemp("rbac-shared"))


def call_public(world: World, route: str) -> Response:
    client, api = world.api.client, world.api
    world.clock.advance(timedelta(seconds=31))
    if route == "POST /api/v1/auth/otp/request":
        return client.post("/api/v1/auth/otp/request", json={"mobile": api.agent.mobile})
    if route == "POST /api/v1/auth/otp/verify":
        assert client.post("/api/v1/auth/otp/request", json={"mobile": api.agent.mobile}).status_code == 202
        return client.post(
            "/api/v1/auth/otp/verify", json={"mobile": api.agent.mobile, "otp": api.last_otp(api.agent.mobile)}
        )
    if route == "POST /api/v1/auth/refresh":
        return client.post("/api/v1/auth/refresh", json={"refresh_token": api.sign_in(api.agent)["refresh_token"]})
    method, path = route.split(" ", 1)
    return client.request(method, path)


PUBLIC_STATUS = {
    "GET /health/live": 200,
    "GET /health/ready": 200,
    "GET /metrics": 200,
    "POST /api/v1/auth/otp/request": 202,
    "POST /api/v1/auth/otp/verify": 200,
    "POST /api/v1/auth/refresh": 200,
}


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
def test_public_routes_need_no_token(shared_world: World, route: str) -> None:
    assert route in PUBLIC_STATUS, "say how to call this public route and what it answers"
    response = call_public(shared_world, route)
    assert response.status_code == PUBLIC_STATUS[route], response.text


def test_the_schema_itself_is_public(shared_world: World) -> None:
    assert shared_world.api.client.get("/schema/openapi.json").status_code == 200


@pytest.mark.parametrize("route", PROTECTED)
def test_protected_routes_refuse_an_unauthenticated_call(shared_world: World, route: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = send(shared_world, Role.ADMIN, route, headers)
        problem(response, 401)
        assert response.headers["www-authenticate"].lower().startswith("bearer")


def test_there_is_an_erp_signed_route() -> None:
    assert ERP_ROUTES == ["POST /api/v1/integrations/{erp}/events"]


@pytest.mark.parametrize("route", ERP_ROUTES)
def test_erp_signed_routes_refuse_unsigned_calls_even_with_a_users_token(shared_world: World, route: str) -> None:
    admin = shared_world.api.login(shared_world.api.admin)
    method, path = route.split(" ", 1)
    event = {"type": "customer.balance", "customer_code": "D0001", "receivables": "1.00"}
    for headers in ({}, admin, {"X-CRM-Timestamp": "1", "X-CRM-Signature": "sha256=" + "0" * 64}):
        response = shared_world.api.client.request(
            method, path.replace("{erp}", "sandbox"), json=event, headers=headers
        )
        problem(response, 401)


# --- the matrix ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(Role), ids=str)
def role_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Role, World]]:
    """A world per role (pytest groups the cases by role, so six worlds in all), signed in once."""
    role: Role = request.param
    for world in build_world(tmp_path_factory.mktemp(f"rbac-{role}")):
        yield role, world


@pytest.mark.parametrize("case", CASES)
def test_role_gets_what_the_permission_table_says(role_world: tuple[Role, World], case: str) -> None:
    role, world = role_world
    # Logging out uses a session of its own: the world's session stays signed in for the other cases.
    logout = case == "POST /api/v1/auth/logout"
    headers = world.fresh_session(role) if logout else world.api.login(world.user(role))
    response = send(world, role, case, headers)
    if allowed(role, case):
        if case in PLANNED:  # inputs guessed from SPEC §4 ahead of the route: refused is all that is ruled out
            assert response.status_code not in (401, 403) and response.status_code < 500, response.text
        else:
            assert 200 <= response.status_code < 300, (role, case, response.status_code, response.text)
    else:
        problem(response, 403)


# --- scope: another customer's things do not exist for you -----------------------------------------------------


@dataclass
class Elsewhere:
    """A customer outside the scope of the rep, the dealer and Mala the manager, with orders and an attachment."""

    world: World
    customer_id: str
    draft_id: str
    held_id: str
    attachment_id: str


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Elsewhere]:
    for world in build_world(tmp_path_factory.mktemp("rbac-scope")):
        omar, customer = world.api.other_rep, world.api.other_customer.id
        draft = place(world, omar, customer, "1", submit=False)
        held = place(world, omar, customer, "200", submit=True)
        yield Elsewhere(world, customer, draft, held, attach_png(world, omar, held))


SCOPE_CASES: dict[str, Callable[[Elsewhere], tuple[str, str, dict[str, Any]]]] = {
    "customer": lambda e: ("GET", f"/api/v1/customers/{e.customer_id}", {}),
    "credit": lambda e: ("GET", f"/api/v1/customers/{e.customer_id}/credit", {}),
    "credit-history": lambda e: ("GET", f"/api/v1/customers/{e.customer_id}/credit/history", {}),
    "statement": lambda e: ("GET", f"/api/v1/customers/{e.customer_id}/statement", {}),
    "order": lambda e: ("GET", f"/api/v1/orders/{e.held_id}", {}),
    "draft-order": lambda e: ("GET", f"/api/v1/orders/{e.draft_id}", {}),
    "attachment": lambda e: ("GET", f"/api/v1/orders/{e.held_id}/attachments/{e.attachment_id}", {}),
    "submit": lambda e: ("POST", f"/api/v1/orders/{e.draft_id}/submit", {}),
    "cancel": lambda e: ("POST", f"/api/v1/orders/{e.held_id}/cancel", {"json": {"reason": "not mine"}}),
    "attach": lambda e: (
        "POST",
        f"/api/v1/orders/{e.held_id}/attachments",
        {"files": {"file": ("x.png", png(), "image/png")}},
    ),
    "create-order": lambda e: ("POST", "/api/v1/orders", {"json": {"customer_id": e.customer_id, "lines": LINES}}),
    "submit-order": lambda e: (
        "POST",
        "/api/v1/orders",
        {"json": {"customer_id": e.customer_id, "lines": LINES, "submit": True}},
    ),
    "quote": lambda e: ("POST", "/api/v1/orders/quote", {"json": {"customer_id": e.customer_id, "lines": LINES}}),
}
OUTSIDERS = ["rep", "dealer", "manager"]


def unknown_twin(path: str, elsewhere: Elsewhere) -> str:
    """The same call with ids that do not exist at all, for comparing the answers."""
    return (
        path.replace(elsewhere.customer_id, "01NOSUCHCUSTOMER")
        .replace(elsewhere.held_id, "01NOSUCHORDER")
        .replace(elsewhere.draft_id, "01NOSUCHDRAFT")
    )


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("case", list(SCOPE_CASES))
def test_another_customers_things_are_not_found(elsewhere: Elsewhere, who: str, case: str) -> None:
    api = elsewhere.world.api
    headers = api.login(getattr(api, who))
    method, path, kwargs = SCOPE_CASES[case](elsewhere)
    body = problem(api.client.request(method, path, headers=headers, **kwargs), 404)

    # Indistinguishable from a thing that does not exist: same status, code and title.
    if "json" in kwargs and "customer_id" in kwargs["json"]:
        kwargs = {"json": {**kwargs["json"], "customer_id": "01NOSUCHCUSTOMER"}}
    twin = problem(api.client.request(method, unknown_twin(path, elsewhere), headers=headers, **kwargs), 404)
    assert (body["code"], body["title"]) == (twin["code"], twin["title"])


def test_nothing_changed_by_the_refused_calls(elsewhere: Elsewhere) -> None:
    api = elsewhere.world.api
    for who in OUTSIDERS:  # make sure the refused calls ran first, whatever order the tests run in
        headers = api.login(getattr(api, who))
        for case in ("submit", "cancel", "attach", "create-order"):
            method, path, kwargs = SCOPE_CASES[case](elsewhere)
            assert api.client.request(method, path, headers=headers, **kwargs).status_code == 404
    admin = api.login(api.admin)
    draft = api.client.get(f"/api/v1/orders/{elsewhere.draft_id}", headers=admin).json()
    held = api.client.get(f"/api/v1/orders/{elsewhere.held_id}", headers=admin).json()
    assert (draft["status"], held["status"]) == ("draft", "on_credit_hold")
    assert len(held["attachments"]) == 1
    orders = api.client.get("/api/v1/orders", params={"customer_id": elsewhere.customer_id}, headers=admin).json()
    assert len(orders["items"]) == 2


@pytest.mark.parametrize("who", OUTSIDERS)
def test_lists_leave_another_customers_things_out(elsewhere: Elsewhere, who: str) -> None:
    api = elsewhere.world.api
    headers = api.login(getattr(api, who))
    customers = api.client.get("/api/v1/customers", params={"limit": 200}, headers=headers)
    assert customers.status_code == 200
    ids = {c["id"] for c in customers.json()["items"]}
    assert elsewhere.customer_id not in ids and api.customer.id in ids
    for params in ({}, {"customer_id": elsewhere.customer_id}):
        orders = api.client.get("/api/v1/orders", params={**params, "limit": 200}, headers=headers)
        assert orders.status_code == 200
        assert not {o["customer_id"] for o in orders.json()["items"]} & {elsewhere.customer_id}
