"""Issue 12, finding 5 and the smaller one on `X-Request-ID` (SPEC §5 "Added after review"): every answer carries
`X-Request-ID`, `X-Content-Type-Options: nosniff` and a `Referrer-Policy` — 401, 404, 405 and preflights
included; token answers and every signed-in answer carry `Cache-Control: no-store`; HSTS only in production; CORS
only for the origins of `CRM_CORS_ORIGINS` (none by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar import MediaType, get
from litestar.testing import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api

ORIGIN = "https://app.crm.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}

#: (name, request) of answers of every kind, signed in or not
Call = Callable[[Api], Response]
ANSWERS: dict[str, Call] = {
    "200 health": lambda a: a.client.get("/health/live"),
    "202 sign-in code": lambda a: a.client.post("/api/v1/auth/otp/request", json={"mobile": "+919000000001"}),
    "400 bad body": lambda a: a.client.post("/api/v1/auth/otp/request", json={"mobile": 7}),
    "401 no token": lambda a: a.client.get("/api/v1/orders"),
    "401 bad token": lambda a: a.client.get("/api/v1/orders", headers={"Authorization": "Bearer nope"}),
    "404 unknown path": lambda a: a.client.get("/api/v1/nowhere"),
    "404 outside the api": lambda a: a.client.get("/nowhere"),
    "405 wrong method": lambda a: a.client.delete("/health/live"),
    "preflight": lambda a: a.client.options("/api/v1/orders", headers=PREFLIGHT),
    "200 signed in": lambda a: a.client.get("/api/v1/auth/me", headers=a.login(a.dealer)),
    "404 signed in": lambda a: a.client.get("/api/v1/orders/nope", headers=a.login(a.dealer)),
}
SIGNED_IN: dict[str, Call] = {
    "me": lambda a: a.client.get("/api/v1/auth/me", headers=a.login(a.dealer)),
    "orders": lambda a: a.client.get("/api/v1/orders", headers=a.login(a.dealer)),
    "products": lambda a: a.client.get("/api/v1/products", headers=a.login(a.dealer)),
    "products again (cached)": lambda a: a.client.get("/api/v1/products", headers=a.login(a.dealer)),
    "customer": lambda a: a.client.get(f"/api/v1/customers/{a.customer.id}", headers=a.login(a.dealer)),
    "refused": lambda a: a.client.get(f"/api/v1/customers/{a.other_customer.id}", headers=a.login(a.dealer)),
}


class TestEveryAnswer:
    @pytest.mark.parametrize("name", ANSWERS)
    def test_carries_a_request_id_nosniff_and_a_referrer_policy(self, api: Api, name: str) -> None:
        answer = ANSWERS[name](api)
        assert answer.headers.get("x-request-id"), (answer.status_code, dict(answer.headers))
        assert answer.headers.get_list("x-request-id") == [answer.headers["x-request-id"]]
        assert answer.headers.get("x-content-type-options") == "nosniff"
        assert answer.headers.get("referrer-policy") == "no-referrer"

    @pytest.mark.parametrize("name", ["401 no token", "404 unknown path", "405 wrong method", "preflight"])
    def test_echoes_a_sane_request_id_of_the_caller(self, api: Api, name: str) -> None:
        api.client.headers["X-Request-ID"] = "trace-42"
        try:
            assert ANSWERS[name](api).headers["x-request-id"] == "trace-42"
        finally:
            del api.client.headers["X-Request-ID"]

    def test_no_hsts_outside_production(self, api: Api) -> None:
        assert "strict-transport-security" not in api.client.get("/health/live").headers


class TestNoStore:
    def test_token_answers_are_not_stored(self, api: Api) -> None:
        requested = api.client.post("/api/v1/auth/otp/request", json={"mobile": api.dealer.mobile})
        verified = api.client.post(
            "/api/v1/auth/otp/verify", json={"mobile": api.dealer.mobile, "otp": api.last_otp(api.dealer.mobile)}
        )
        refreshed = api.client.post("/api/v1/auth/refresh", json={"refresh_token": verified.json()["refresh_token"]})
        assert refreshed.status_code == 200
        for answer in (requested, verified, refreshed):
            assert answer.headers.get("cache-control") == "no-store", answer.request.url

    @pytest.mark.parametrize("name", SIGNED_IN)
    def test_signed_in_answers_are_not_stored(self, api: Api, name: str) -> None:
        SIGNED_IN["products"](api)
        assert SIGNED_IN[name](api).headers.get("cache-control") == "no-store"


@contextmanager
def app_with(tmp_path: Path, **settings: Any) -> Iterator[TestClient[Any]]:
    base: dict[str, Any] = {"database_url": "memory://", "data_dir": tmp_path, "jwt_secret": "x" * 48}
    with TestClient(create_app(bootstrap(Settings(**{**base, **settings})))) as client:
        yield client


class TestCors:
    def test_no_cors_headers_by_default(self, api: Api) -> None:
        preflight = api.client.options("/api/v1/orders", headers=PREFLIGHT)
        simple = api.client.get("/health/live", headers={"Origin": ORIGIN})
        for answer in (preflight, simple):
            assert not [h for h in answer.headers if h.startswith("access-control-")], dict(answer.headers)

    def test_only_the_configured_origins_are_allowed(self, tmp_path: Path) -> None:
        with app_with(tmp_path, cors_origins=f"{ORIGIN}, https://admin.crm.example") as client:
            allowed = client.options("/api/v1/orders", headers=PREFLIGHT)
            assert allowed.headers.get("access-control-allow-origin") == ORIGIN
            assert allowed.headers.get("x-request-id")
            other = client.get("/health/live", headers={"Origin": "https://evil.example"})
            assert other.headers.get("access-control-allow-origin") in (None, ORIGIN)
            assert "https://evil.example" not in other.headers.get("access-control-allow-origin", "")
            assert "*" not in other.headers.get("access-control-allow-origin", "")
            second = client.get("/health/live", headers={"Origin": "https://admin.crm.example"})
            assert second.headers.get("access-control-allow-origin") == "https://admin.crm.example"

    def test_the_setting_reads_a_comma_separated_list(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CRM_CORS_ORIGINS", f"{ORIGIN},https://admin.crm.example")
        assert Settings().cors_origin_list == [ORIGIN, "https://admin.crm.example"]
        monkeypatch.delenv("CRM_CORS_ORIGINS")
        assert Settings().cors_origin_list == []

    def test_a_wildcard_is_not_an_origin(self) -> None:
        with pytest.raises(ValueError, match="CRM_CORS_ORIGINS"):
            Settings(cors_origins="*")


class TestHsts:
    def test_production_answers_carry_hsts(self, tmp_path: Path) -> None:
        prod = {
            "env": "prod",
            "sms_backend": f"file:{tmp_path / 'sms.jsonl'}",
            "gennext_url": "http://127.0.0.1:9/api/v1",
            "gennext_api_key": "k" * 16,
        }
        with app_with(tmp_path, **prod) as client:
            for answer in (client.get("/health/live"), client.get("/nowhere")):
                assert answer.headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains"


class TestContentSecurityPolicy:
    """HTML pages allow only the app's own origin and no framing (SPEC §5); JSON answers need no policy."""

    def test_an_html_page_carries_the_policy_and_json_does_not(self, tmp_path: Path) -> None:
        @get("/health/page", media_type=MediaType.HTML, sync_to_thread=False)  # a public path
        def page() -> str:
            return "<!doctype html><title>page</title>"

        app = create_app(bootstrap(Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48)))
        app.register(page)
        with TestClient(app) as client:
            policy = client.get("/health/page").headers.get("content-security-policy", "")
            assert "default-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert "http" not in policy  # no other origin
            assert "content-security-policy" not in client.get("/health/live").headers
