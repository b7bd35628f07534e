"""Issue 12, finding 3: sign-in limits keyed on the connection address only, and no rate limit on the rest of
the API. SPEC §5: the client address comes from X-Forwarded-For / Forwarded only behind `CRM_TRUSTED_PROXIES`;
every signed-in user has `CRM_API_RATE` a minute, anonymous callers `CRM_ANON_API_RATE` per address; 429 problem
with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.api.conftest import problem
from tests.security.conftest import PEER, SecureApp

App = Callable[..., SecureApp]
STALE = {"refresh_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJlLW5vdC12YWxpZC1mb3ItdGhpcy10b2tlbg"}


def test_a_signed_in_user_over_the_api_rate_gets_429_with_retry_after(secure_app: App) -> None:
    app = secure_app(api_rate=3, anon_api_rate=100)
    headers = {**app.bearer(), PEER: "192.0.2.1"}
    assert [app.client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(3)] == [200] * 3

    refused = app.client.get("/api/v1/auth/me", headers=headers)

    problem(refused, 429, "too_many_requests")
    assert refused.headers["retry-after"] == "20"  # one request every 60 / 3 s
    assert refused.headers["x-request-id"]  # a refusal is traceable like any answer (SPEC §5)
    assert refused.headers["x-content-type-options"] == "nosniff"
    # the rate is the user's: the same user from another address is refused too
    assert app.client.get("/api/v1/auth/me", headers={**headers, PEER: "198.51.100.7"}).status_code == 429
    app.clock.advance(timedelta(seconds=20))
    assert app.client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_anonymous_callers_are_limited_per_address_and_bad_tokens_count_as_anonymous(secure_app: App) -> None:
    app = secure_app(anon_api_rate=2)
    bad = {"Authorization": "Bearer not-a-token", PEER: "192.0.2.9"}
    assert app.client.get("/api/v1/auth/me", headers=bad).status_code == 401
    assert app.client.post("/api/v1/auth/refresh", json=STALE, headers={PEER: "192.0.2.9"}).status_code == 401

    refused = app.client.get("/api/v1/auth/me", headers=bad)
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["retry-after"]) == 30
    assert refused.headers["x-request-id"]
    # another address has its own allowance; health probes are never limited
    assert app.client.get("/api/v1/auth/me", headers={**bad, PEER: "192.0.2.10"}).status_code == 401
    assert app.client.get("/health/live", headers={PEER: "192.0.2.9"}).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(secure_app: App) -> None:
    app = secure_app(anon_api_rate=1)
    first = {PEER: "203.0.113.5", "X-Forwarded-For": "192.0.2.1"}
    assert app.client.post("/api/v1/auth/refresh", json=STALE, headers=first).status_code == 401
    spoofed = {PEER: "203.0.113.5", "X-Forwarded-For": "192.0.2.2", "Forwarded": "for=192.0.2.3"}
    assert app.client.post("/api/v1/auth/refresh", json=STALE, headers=spoofed).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_bucket(secure_app: App) -> None:
    """The reproduction: behind the load balancer every request comes from its address. With the balancer
    trusted, one script exhausting its own sign-in allowance leaves everyone else's untouched."""
    app = secure_app(trusted_proxies="10.0.0.0/8")
    proxy = {PEER: "10.0.0.2"}
    script = {**proxy, "X-Forwarded-For": "198.51.100.66, 10.0.0.7"}
    for i in range(30):
        mobile = f"+9198000{i:05d}"
        assert app.client.post("/api/v1/auth/otp/request", json={"mobile": mobile}, headers=script).status_code == 202
    refused = app.client.post("/api/v1/auth/otp/request", json={"mobile": "+919800099999"}, headers=script)
    problem(refused, 429, "too_many_requests")
    assert 0 < int(refused.headers["retry-after"]) <= 60

    colleague = {**proxy, "X-Forwarded-For": "203.0.113.20"}
    assert (
        app.client.post("/api/v1/auth/otp/request", json={"mobile": "+919000000001"}, headers=colleague).status_code
        == 202
    )
    rfc7239 = {**proxy, "Forwarded": 'for="[2001:db8::17]:4711";proto=https'}
    assert (
        app.client.post("/api/v1/auth/otp/request", json={"mobile": "+919000000002"}, headers=rfc7239).status_code
        == 202
    )
