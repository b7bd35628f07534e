"""Issue 12, finding 2 and the smaller ones on request shapes (SPEC §5 "Added after review"): JSON nested deeper
than 32 levels, a body that is not declared JSON, and an `Authorization` scheme other than Bearer are refused with
a 4xx problem — never a 500, never a traceback in the log — before any token is needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from adapters.system import FixedClock
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.http.controllers.integrations import sign
from entrypoints.settings import Settings
from tests.api.conftest import Api, problem

MAX_DEPTH = 32
SECRET = "w" * 32


def nested(depth: int, *, kind: str = "list") -> bytes:
    """A JSON document whose deepest value sits `depth` containers down."""
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def signed(body: bytes, now: datetime) -> dict[str, str]:
    stamp = str(int(now.timestamp()))
    return {
        "content-type": "application/json",
        "X-CRM-Timestamp": stamp,
        "X-CRM-Signature": sign(SECRET.encode(), stamp, body),
    }


@pytest.fixture
def webhook(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    """The app on the embedded default with the ERP webhook configured with `SECRET`."""
    settings = Settings(
        database_url="memory://",
        data_dir=tmp_path,
        jwt_secret="x" * 48,  # type: ignore[arg-type]
        erp_webhook_secret=SECRET,  # type: ignore[arg-type]
    )
    with TestClient(create_app(bootstrap(settings, clock=clock))) as client:
        yield client


class TestJsonDepth:
    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3000, 100_000])
    @pytest.mark.parametrize("kind", ["list", "object"])
    def test_deep_json_on_sign_in_is_a_400_problem(
        self, api: Api, depth: int, kind: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        body = b'{"mobile":' + nested(depth, kind=kind) + b"}"
        answer = api.client.post("/api/v1/auth/otp/request", content=body, headers={"content-type": "application/json"})
        problem(answer, 400, "json_too_deep")
        assert "Traceback" not in capsys.readouterr().out

    def test_deep_json_on_orders_is_a_400_problem_without_a_token_and_with_one(self, api: Api) -> None:
        body = b'{"customer_id":"x","lines":' + nested(5000) + b"}"
        headers = {"content-type": "application/json"}
        refused = api.client.post("/api/v1/orders", content=body, headers=headers)
        assert refused.status_code in (400, 401), refused.text  # no token: refused before the body matters
        signed_in = api.client.post("/api/v1/orders", content=body, headers={**headers, **api.login(api.dealer)})
        problem(signed_in, 400, "json_too_deep")

    def test_deep_json_on_the_signed_webhook_is_a_400_problem(
        self, webhook: TestClient[Any], clock: FixedClock
    ) -> None:
        body = nested(5000, kind="object")
        headers = signed(body, clock.now())
        problem(
            webhook.post("/api/v1/integrations/sandbox/events", content=body, headers=headers), 400, "json_too_deep"
        )

    def test_json_at_the_limit_still_reaches_validation(self, api: Api) -> None:
        body = b'{"mobile":' + nested(MAX_DEPTH - 1) + b"}"  # the object itself is the first level
        answer = api.client.post("/api/v1/auth/otp/request", content=body, headers={"content-type": "application/json"})
        problem(answer, 400, "validation_failed")

    def test_brackets_inside_strings_do_not_count(self, api: Api) -> None:
        mobile = "[" * 100 + "{" * 100
        answer = api.client.post(
            "/api/v1/auth/otp/request",
            content=b'{"mobile":"' + mobile.encode() + b'\\""}',
            headers={"content-type": "application/json"},
        )
        problem(answer, 400, "validation_failed")


class TestContentType:
    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
    def test_a_json_body_sent_as_another_type_is_a_415_problem(self, api: Api, content_type: str) -> None:
        answer = api.client.post(
            "/api/v1/auth/otp/request",
            content=b'{"mobile": "+919000000001"}',
            headers={"content-type": content_type},
        )
        problem(answer, 415, "unsupported_media_type")
        assert not api.sms_file.exists() or "+919000000001" not in api.sms_file.read_text()

    def test_an_order_sent_as_text_plain_is_refused_and_stores_nothing(self, api: Api) -> None:
        body = b'{"customer_id": "%s", "lines": [{"sku": "PMP-1", "quantity": "1"}]}' % api.customer.id.encode()
        headers = {**api.login(api.dealer), "content-type": "text/plain"}
        problem(api.client.post("/api/v1/orders", content=body, headers=headers), 415, "unsupported_media_type")
        assert api.client.get("/api/v1/orders", headers=api.login(api.dealer)).json()["items"] == []

    @pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
    def test_json_declared_as_json_is_accepted(self, api: Api, content_type: str) -> None:
        answer = api.client.post(
            "/api/v1/auth/otp/request",
            content=b'{"mobile": "+919000000001"}',
            headers={"content-type": content_type},
        )
        assert answer.status_code == 202, answer.text


class TestAuthorizationScheme:
    @pytest.mark.parametrize("scheme", ["Basic", "Token", "bearerx", ""])
    def test_a_jwt_under_another_scheme_is_a_401(self, api: Api, scheme: str) -> None:
        token = api.login(api.dealer)["Authorization"].removeprefix("Bearer ")
        value = f"{scheme} {token}" if scheme else token
        problem(api.client.get("/api/v1/auth/me", headers={"Authorization": value}), 401)

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
    def test_the_bearer_scheme_is_accepted_in_any_case(self, api: Api, scheme: str) -> None:
        token = api.login(api.dealer)["Authorization"].removeprefix("Bearer ")
        assert api.client.get("/api/v1/auth/me", headers={"Authorization": f"{scheme} {token}"}).status_code == 200
