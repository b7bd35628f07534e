"""Schemathesis over every operation of /schema/openapi.json, signed in as an admin, against the real app in-process
(embedded store): no answer is a 500, and every answer's status, content type and body are the ones the document
declares for that operation. Bounded (a few examples an operation, no deadline) so the suite stays quick; a
failure names the operation and the case that broke it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm_domain.money import Money
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.sms import last_code

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
#: Ends the session whose token the others use: it gets a token of its own.
LOGOUT = "/api/v1/auth/logout"

pytestmark = pytest.mark.slow


def _runner(strategy: Any, auth: dict[str, str], examples: int) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    return run


def test_every_operation_keeps_its_contract(tmp_path: Path) -> None:
    settings_ = Settings(
        database_url="memory://",
        data_dir=tmp_path,
        jwt_secret="x" * 48,  # type: ignore[arg-type]
        api_rate=1_000_000,
        anon_api_rate=1_000_000,
    )
    container = bootstrap(settings_)
    crm = container.crm
    admin = crm.users.create_admin("+919000000001", "Asha Admin")
    customer = crm.customers.create(
        admin.actor(),
        NewCustomer(code="D0001", name="Jaipur Agro", mobile="+919100000001", credit_limit=Money.of("10000", "INR")),
    ).customer
    crm.catalogue.create(admin.actor(), NewProduct(sku="PMP-1", name="Pump", unit_price=Money.of("420", "INR")))
    app = create_app(container)
    # No `with`: schemathesis drives the app through its own ASGI client, and a lifespan left open beside it would
    # never shut down. The app needs nothing from its start-up hooks here.
    client = TestClient(app)

    def sign_in(mobile: str) -> dict[str, str]:
        assert client.post("/api/v1/auth/otp/request", json={"mobile": mobile}).status_code == 202
        otp = last_code(tmp_path / "sms.jsonl", mobile)
        verified = client.post("/api/v1/auth/otp/verify", json={"mobile": mobile, "otp": otp})
        assert verified.status_code == 200, verified.text
        return {"Authorization": f"Bearer {verified.json()['access_token']}"}

    headers = sign_in(admin.mobile)
    # Logging out ends the session whose token it sends: that operation gets a session of its own (ended by its
    # first example; the later ones answer 401, as documented).
    leaving = sign_in(crm.users.create_admin("+919000000009", "Lata Leaving").mobile)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        fixed: dict[str, Any] = {}
        if "{customer_id}" in operation.path:
            fixed["customer_id"] = customer.id  # one real id, so the happy paths are reached too
        for mode, examples in EXAMPLES.items():
            given_path = fixed if mode is GenerationMode.POSITIVE else None
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=given_path)
            run = _runner(strategy, leaving if operation.path == LOGOUT else headers, examples)
            try:
                run()
            except Unsatisfiable:  # no invalid input exists (an operation without parameters or body)
                assert mode is GenerationMode.NEGATIVE, operation.path
            except BaseException as exc:  # collected (failure groups too), so one run reports every broken operation
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"[:3000])
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
