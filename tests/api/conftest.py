"""API tests: the real Litestar app on the in-memory store, driven by Litestar's test client.

`api` is a small world (admin, a manager tree, a credit controller, a call-center agent, a dealer user,
customers, products) and `api.login(user)` signs a user in through the real OTP flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar.testing import TestClient
from redis import Redis

from adapters.mongo import MongoStore
from adapters.system import FixedClock
from crm_domain.money import Money
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.users import NewUser
from crm_domain.users import Role, User
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests import mongo
from tests.sms import last_code


def problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with `status` and a machine `code` (that `code`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


class Api:
    """The client plus the people and things every API test needs."""

    def __init__(self, container: Container, client: TestClient[Any], sms_file: Path) -> None:
        self.container = container
        self.client = client
        self.sms_file = sms_file
        crm = container.crm
        self.admin = crm.users.create_admin("+919000000001", "Asha Admin")
        a = self.admin.actor()

        def user(mobile: str, name: str, roles: set[Role], **kw: Any) -> User:
            return crm.users.create(a, NewUser(mobile=mobile, name=name, roles=frozenset(roles), **kw))

        self.head = user("+919000000002", "Hari Head", {Role.SALES_MANAGER})
        self.manager = user("+919000000003", "Mala Manager", {Role.SALES_MANAGER}, manager_id=self.head.id)
        self.rep = user("+919000000004", "Ravi Rep", {Role.SALES_REP}, manager_id=self.manager.id)
        self.other_rep = user("+919000000005", "Omar Rep", {Role.SALES_REP}, manager_id=self.head.id)
        self.controller = user("+919000000006", "Chitra Credit", {Role.CREDIT_CONTROLLER})
        self.agent = user("+919000000007", "Anil Agent", {Role.CALL_CENTER_AGENT})
        self.customer = crm.customers.create(
            a,
            NewCustomer(
                code="D0001",
                name="Jaipur Agro",
                mobile="+919100000001",
                credit_limit=Money.of("10000.00", "INR"),
                territory="North",
                assigned_rep_id=self.rep.id,
            ),
        ).customer
        self.other_customer = crm.customers.create(
            a,
            NewCustomer(
                code="D0002",
                name="Madurai Pumps",
                mobile="+919100000002",
                credit_limit=Money.of("50000.00", "INR"),
                territory="South",
                assigned_rep_id=self.other_rep.id,
            ),
        ).customer
        self.dealer = user("+919000000008", "Devi Dealer", {Role.DEALER}, customer_id=self.customer.id)
        crm.catalogue.create(
            a, NewProduct(sku="PMP-1", name="Pump 1 HP", unit_price=Money.of("420.00", "INR"), tax_rate=Decimal(18))
        )
        crm.catalogue.create(
            a, NewProduct(sku="VLV-1", name="Gate valve", unit_price=Money.of("99.99", "INR"), tax_rate=Decimal(12))
        )
        self._tokens: dict[str, dict[str, Any]] = {}

    def last_otp(self, mobile: str) -> str:
        return last_code(self.sms_file, mobile)

    def sign_in(self, user: User) -> dict[str, Any]:
        """The whole OTP flow; returns the token pair."""
        requested = self.client.post("/api/v1/auth/otp/request", json={"mobile": user.mobile})
        assert requested.status_code == 202, requested.text
        verified = self.client.post(
            "/api/v1/auth/otp/verify", json={"mobile": user.mobile, "otp": self.last_otp(user.mobile)}
        )
        assert verified.status_code == 200, verified.text
        return dict(verified.json())

    def login(self, user: User) -> dict[str, str]:
        """Authorization headers for `user` (signed in once per test)."""
        if user.id not in self._tokens:
            self._tokens[user.id] = self.sign_in(user)
        return {"Authorization": f"Bearer {self._tokens[user.id]['access_token']}"}

    def order(
        self, user: User, *, quantity: str = "1", submit: bool = True, customer_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "customer_id": customer_id or self.customer.id,
            "lines": [{"sku": "PMP-1", "quantity": quantity}],
            "submit": submit,
            **extra,
        }
        response = self.client.post("/api/v1/orders", json=body, headers=self.login(user))
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


CONFIGURATIONS = ["embedded", pytest.param("production", id=f"production-{mongo.ID}-redis")]


@pytest.fixture(params=CONFIGURATIONS)
def api(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    """Every API test runs twice: on the embedded default (in-memory store, in-process sessions), and on the
    production configuration of SPEC §1 — MongoDB (CRM_TEST_MONGODB_URI, else mongomock) and a real Redis
    (`redis_url`: a redis-server these tests start) for sessions, OTPs, rate limits and the response cache."""
    if request.param == "embedded":
        settings = Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48)  # type: ignore[arg-type]
        container = bootstrap(settings)
        with TestClient(create_app(container)) as client:
            yield Api(container, client, tmp_path / "sms.jsonl")
        return
    redis_url = request.getfixturevalue("redis_url")
    Redis.from_url(redis_url).flushall()  # tests of one xdist worker share its server, one at a time
    with mongo.fresh_database() as (mongo_client, name):
        settings = Settings(
            database_url=f"mongodb://127.0.0.1/{name}",
            redis_url=redis_url,
            data_dir=tmp_path,
            jwt_secret="x" * 48,  # type: ignore[arg-type]
        )
        container = bootstrap(settings, uow=MongoStore(mongo_client, name))
        with TestClient(create_app(container)) as client:
            yield Api(container, client, tmp_path / "sms.jsonl")
