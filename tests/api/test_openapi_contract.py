"""The OpenAPI document as a contract for client developers (SPEC §4): valid OAS 3.1, every error as a problem,
enums and money patterns on outputs, examples that match their schemas, and the error statuses the server really
answers documented on the operation that answers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from crm_domain.orders import OrderStatus
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.http.app import create_app
from entrypoints.http.openapi_contract import PROBLEM_SCHEMA_NAME
from entrypoints.http.openapi_examples import EXAMPLES
from entrypoints.settings import Settings
from tests.api.test_problems import EXPECTED
from tests.sms import last_code

METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, TestClient[Any], Path]]:
    tmp_path = tmp_path_factory.mktemp("contract")
    settings = Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48)  # type: ignore[arg-type]
    container = bootstrap(settings)
    with TestClient(create_app(container)) as client:
        yield container, client, tmp_path


@pytest.fixture(scope="module")
def document(served: tuple[Container, TestClient[Any], Path]) -> dict[str, Any]:
    response = served[1].get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = document["components"][section][name]
    return node


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on the first violation
    assert "name" not in document["components"]["securitySchemes"]["BearerToken"]


def test_every_error_answer_is_a_problem(document: dict[str, Any]) -> None:
    """What a generated client needs to type errors as problem details: each 4xx/5xx of every operation is
    `application/problem+json` with the `ProblemDetails` schema, and nothing else."""
    problem = document["components"]["schemas"][PROBLEM_SCHEMA_NAME]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert {"errors", "field"} <= set(problem["properties"])
    for method, path, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s.isdigit() and int(s) >= 400}
        assert {"400", "429", "500"} <= set(errors), (method, path)
        for status, response in errors.items():
            content = _resolve(document, response)["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": PROBLEM_REF}
    assert "status_code" not in json.dumps(document)  # Litestar's default 400 shape is gone


def test_statuses_follow_from_what_an_operation_is(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        if operation.get("security") != [{}]:
            assert {"401", "403"} <= statuses, (method, path)
        if "requestBody" in operation:
            assert {"413", "415"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method != "get" and path.startswith("/api/v1/") and "/auth/" not in path:
            assert "409" in statuses, (method, path)
        if method == "get":
            assert "304" in statuses, (method, path)


def test_every_status_of_the_error_table_is_documented(document: dict[str, Any]) -> None:
    """tests/api/test_problems.py's table is every error the server maps; each status it answers over HTTP has a
    documented problem response (502 `erp_rejected` is raised only in the worker, never by a request)."""
    answered = {status for _, status, _, _ in EXPECTED} - {502}
    documented = {int(name.removeprefix("Problem")) for name in document["components"]["responses"]}
    assert answered <= documented


def test_outputs_keep_enums_and_money_patterns(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    order = schemas["OrderOut"]["properties"]
    assert _resolve(document, order["status"])["enum"] == [status.value for status in OrderStatus]
    assert "enum" in _resolve(document, order["channel"])
    assert "enum" in _resolve(document, order["erp_sync"])
    for name, field in [("OrderOut", "total"), ("LineOut", "unit_price"), ("CustomerOut", "credit_limit")]:
        assert schemas[name]["properties"][field]["pattern"] == r"^-?[0-9]+\.[0-9]{2}$", (name, field)
    tolerance = schemas["CustomerIn"]["properties"]["tolerance_pct"]
    assert tolerance["default"] == "0" and "string" in tolerance["type"]


def test_examples_match_their_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, example in EXAMPLES.items():
        assert schemas[name]["examples"] == [example]
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = list(OAS31Validator(schema).iter_errors(example))
        assert not errors, (name, [e.message for e in errors])
    for name in ("OrderIn", "OrderOut", "CustomerIn", "CustomerOut", "ProductIn", "ProductOut", "TokenPairOut"):
        assert name in EXAMPLES


def _sign_in(container: Container, client: TestClient[Any], tmp_path: Path) -> dict[str, str]:
    admin = container.crm.users.create_admin("+919000000001", "Asha Admin")
    assert client.post("/api/v1/auth/otp/request", json={"mobile": admin.mobile}).status_code == 202
    otp = last_code(tmp_path / "sms.jsonl", admin.mobile)
    verified = client.post("/api/v1/auth/otp/verify", json={"mobile": admin.mobile, "otp": otp})
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['access_token']}"}


def test_the_errors_the_server_answers_are_documented(
    served: tuple[Container, TestClient[Any], Path], document: dict[str, Any]
) -> None:
    """Real error answers, each checked against the responses its operation documents."""
    container, client, tmp_path = served
    headers = _sign_in(container, client, tmp_path)
    deep = ("[" * 40 + "]" * 40).encode()
    product = {"sku": "PMP-9", "name": "Pump", "unit_price": "1.00", "currency": "INR"}
    assert client.post("/api/v1/products", json=product, headers=headers).status_code == 201
    cases: list[tuple[str, str, Any, int]] = [
        ("get", "/api/v1/orders", lambda: client.get("/api/v1/orders"), 401),
        ("get", "/api/v1/orders/{order_id}", lambda: client.get("/api/v1/orders/nope", headers=headers), 404),
        ("get", "/api/v1/orders", lambda: client.get("/api/v1/orders?limit=0", headers=headers), 400),
        ("get", "/api/v1/customers", lambda: client.get("/api/v1/customers?colour=red", headers=headers), 400),
        (
            "post",
            "/api/v1/orders",
            lambda: client.post(
                "/api/v1/orders", content=deep, headers={**headers, "Content-Type": "application/json"}
            ),
            400,
        ),
        (
            "post",
            "/api/v1/orders",
            lambda: client.post("/api/v1/orders", content=b"{}", headers={**headers, "Content-Type": "text/plain"}),
            415,
        ),
        (
            "post",
            "/api/v1/orders",
            lambda: client.post(
                "/api/v1/orders",
                content=b'{"notes": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                headers={**headers, "Content-Type": "application/json"},
            ),
            413,
        ),
        ("post", "/api/v1/products", lambda: client.post("/api/v1/products", json=product, headers=headers), 409),
        (
            "post",
            "/api/v1/auth/otp/verify",
            lambda: client.post("/api/v1/auth/otp/verify", json={"mobile": "+919000000001", "otp": "000000"}),
            401,
        ),
    ]
    for method, path, call, status in cases:
        response = call()
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert str(status) in document["paths"][path][method]["responses"], (method, path, status)
