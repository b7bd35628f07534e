"""SPEC §5 over HTTP: forged and misused tokens, logout, refresh rotation with reuse detection, the OTP rules
(attempts, single use, expiry, no enumeration, resend interval, per-mobile and per-IP limits) and logs that
never hold a code or a token.

The worlds here run on a `FixedClock` the test holds, so expiry and rate windows are crossed by moving the
clock rather than by sleeping.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from httpx import Response
from litestar.testing import TestClient

from adapters.system import FixedClock
from crm_domain.services.users import UserChanges
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api, problem

SECRET = "s3cret-" + "k" * 41
ME = "/api/v1/auth/me"
REQUEST = "/api/v1/auth/otp/request"
VERIFY = "/api/v1/auth/otp/verify"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
#: 09:30 UTC: the hourly and per-minute rate windows (aligned to the epoch) are well inside their bounds.
START = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
RESEND = timedelta(seconds=31)


@dataclass
class World:
    api: Api
    clock: FixedClock

    @property
    def client(self) -> TestClient[Any]:
        return self.api.client

    def sms_to(self, mobile: str) -> list[str]:
        if not self.api.sms_file.exists():
            return []
        lines = [json.loads(line) for line in self.api.sms_file.read_text().splitlines()]
        return [m["text"] for m in lines if m["to"] == mobile]


def build_world(data_dir: Path) -> Iterator[World]:
    clock = FixedClock(START)
    settings = Settings(database_url="memory://", data_dir=data_dir, jwt_secret=SECRET)  # type: ignore[arg-type]
    container = bootstrap(settings, clock=clock)
    with TestClient(create_app(container)) as client:
        yield World(Api(container, client, data_dir / "sms.jsonl"), clock)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from build_world(tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(response: Response) -> None:
    """401 problem details asking for a bearer token."""
    problem(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def me(world: World, token: str) -> Response:
    return world.client.get(ME, headers=bearer(token))


def refresh(world: World, refresh_token: str) -> Response:
    return world.client.post(REFRESH, json={"refresh_token": refresh_token})


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- forged and misused tokens ------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def signed(claims: dict[str, Any], *, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def fresh(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The claims of a real access token with a live `iat`/`exp`, changed as asked (None drops a claim)."""
    now = int(time.time())
    out = {**claims, "iat": now - 5, "exp": now + 600, **changes}
    return {k: v for k, v in out.items() if v is not None}


def one_character_changed(token: str) -> str:
    header, payload, signature = token.split(".")
    i = len(payload) // 2
    replacement = "A" if payload[i] != "A" else "B"
    return f"{header}.{payload[:i]}{replacement}{payload[i + 1 :]}.{signature}"


def claims_changed_signature_kept(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = {**claims_of(token), "roles": ["admin"]}
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def unsigned(claims: dict[str, Any]) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


Forgery = Callable[[dict[str, str], dict[str, Any]], str]


def without(claim: str) -> Forgery:
    """A token with every claim but `claim`, signed with the right secret."""
    return lambda _pair, claims: signed(fresh(claims, **{claim: None}))


FORGERIES: dict[str, Forgery] = {
    "payload-character-changed": lambda pair, _c: one_character_changed(pair["access_token"]),
    "claims-changed-signature-kept": lambda pair, _c: claims_changed_signature_kept(pair["access_token"]),
    "signed-with-another-secret": lambda _p, c: signed(fresh(c), secret="another-secret-" + "x" * 40),
    "expired": lambda _p, c: signed(fresh(c, iat=int(time.time()) - 3600, exp=int(time.time()) - 60)),
    "wrong-audience": lambda _p, c: signed(fresh(c, aud="some-other-api")),
    "wrong-issuer": lambda _p, c: signed(fresh(c, iss="someone-else")),
    "alg-none": lambda _p, c: unsigned(fresh(c)),
    "hs512-with-the-right-secret": lambda _p, c: signed(fresh(c), algorithm="HS512"),
    "unknown-session": lambda _p, c: signed(fresh(c, sid="01NOSUCHSESSION")),
    "refresh-token-as-access-token": lambda pair, _c: pair["refresh_token"],
    **{f"missing-{claim}": without(claim) for claim in ["sid", "sub", "jti", "iss", "aud", "exp", "iat", "typ"]},
}


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, str]]]:
    """One world and a live session of the rep, shared by the forgery cases (none of them changes anything)."""
    for world in build_world(tmp_path_factory.mktemp("forgeries")):
        yield world, world.api.sign_in(world.api.rep)


class TestForgedTokens:
    def test_a_resigned_copy_of_the_claims_is_accepted(self, signed_in: tuple[World, dict[str, str]]) -> None:
        # The control for every case below: re-signing the very claims with the right secret works, so each
        # refusal is due to the one thing the case changes.
        world, pair = signed_in
        assert me(world, pair["access_token"]).status_code == 200
        response = me(world, signed(fresh(claims_of(pair["access_token"]))))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == world.api.rep.id

    @pytest.mark.parametrize("forgery", list(FORGERIES))
    def test_is_refused_with_401(self, signed_in: tuple[World, dict[str, str]], forgery: str) -> None:
        world, pair = signed_in
        token = FORGERIES[forgery](pair, claims_of(pair["access_token"]))
        refused(me(world, token))
        refused(world.client.get("/api/v1/orders", headers=bearer(token)))

    def test_a_token_accepted_before_is_refused_once_it_expires(self, signed_in: tuple[World, dict[str, str]]) -> None:
        """A checked token is remembered (decision 0021), but never past its `exp` (real time, as pyjwt's)."""
        world, pair = signed_in
        soon = int(time.time()) + 2
        token = signed(fresh(claims_of(pair["access_token"]), exp=soon))
        assert me(world, token).status_code == 200
        assert world.client.get("/api/v1/orders", headers=bearer(token)).status_code == 200
        assert me(world, token).status_code == 200  # remembered now

        time.sleep(max(soon - time.time(), 0) + 0.2)

        refused(me(world, token))
        refused(world.client.get("/api/v1/orders", headers=bearer(token)))

    def test_an_access_token_is_no_refresh_token(self, signed_in: tuple[World, dict[str, str]]) -> None:
        world, pair = signed_in
        refused(refresh(world, pair["access_token"]))
        forged = signed(fresh(claims_of(pair["refresh_token"])), secret="another-secret-" + "x" * 40)
        refused(refresh(world, forged))
        refused(refresh(world, "not-a-jwt-at-all"))


# --- logout and refresh -------------------------------------------------------------------------------------


class TestLogout:
    def test_ends_that_session_and_no_other(self, world: World) -> None:
        api = world.api
        first = api.sign_in(api.rep)
        world.clock.advance(RESEND)
        second = api.sign_in(api.rep)
        assert me(world, first["access_token"]).status_code == 200

        response = world.client.post(LOGOUT, headers=bearer(first["access_token"]))
        assert response.status_code == 204, response.text

        refused(me(world, first["access_token"]))
        refused(refresh(world, first["refresh_token"]))
        assert me(world, second["access_token"]).status_code == 200
        renewed = refresh(world, second["refresh_token"])
        assert renewed.status_code == 200, renewed.text
        assert me(world, renewed.json()["access_token"]).status_code == 200

    def test_needs_a_live_session(self, world: World) -> None:
        pair = world.api.sign_in(world.api.rep)
        assert world.client.post(LOGOUT, headers=bearer(pair["access_token"])).status_code == 204
        refused(world.client.post(LOGOUT, headers=bearer(pair["access_token"])))
        refused(world.client.post(LOGOUT))


class TestRefresh:
    def test_rotates_and_reuse_of_the_old_token_ends_the_session(self, world: World) -> None:
        api = world.api
        old = api.sign_in(api.rep)
        response = refresh(world, old["refresh_token"])
        assert response.status_code == 200, response.text
        new = response.json()
        assert new["token_type"] == "bearer" and new["expires_in"] > 0
        assert new["user"]["id"] == api.rep.id
        assert new["access_token"] != old["access_token"]
        assert new["refresh_token"] != old["refresh_token"]
        assert claims_of(new["refresh_token"])["sid"] == claims_of(old["refresh_token"])["sid"]
        assert me(world, new["access_token"]).status_code == 200

        refused(refresh(world, old["refresh_token"]))  # a rotated token is presented again: theft assumed

        refused(me(world, new["access_token"]))
        refused(refresh(world, new["refresh_token"]))
        refused(me(world, old["access_token"]))

    def test_each_new_refresh_token_works_once(self, world: World) -> None:
        pair = world.api.sign_in(world.api.rep)
        for _ in range(3):
            response = refresh(world, pair["refresh_token"])
            assert response.status_code == 200, response.text
            pair = response.json()
        assert me(world, pair["access_token"]).status_code == 200

    def test_another_users_session_survives_a_reuse(self, world: World) -> None:
        api = world.api
        rep, agent = api.sign_in(api.rep), api.sign_in(api.agent)
        assert refresh(world, rep["refresh_token"]).status_code == 200
        refused(refresh(world, rep["refresh_token"]))
        assert me(world, agent["access_token"]).status_code == 200


# --- OTP ----------------------------------------------------------------------------------------------------


def ask(world: World, mobile: str) -> Response:
    return world.client.post(REQUEST, json={"mobile": mobile})


def verify(world: World, mobile: str, code: str) -> Response:
    return world.client.post(VERIFY, json={"mobile": mobile, "otp": code})


class TestOtpVerification:
    def test_the_sixth_attempt_is_refused_even_with_the_right_code(self, world: World) -> None:
        api = world.api
        mobile = api.rep.mobile
        assert ask(world, mobile).status_code == 202
        code = api.last_otp(mobile)
        for _ in range(5):
            refused(verify(world, mobile, other_code(code)))
        refused(verify(world, mobile, code))
        refused(verify(world, mobile, code))  # and it stays burned

        world.clock.advance(RESEND)  # a new code works again: the user is not locked out
        assert ask(world, mobile).status_code == 202
        assert verify(world, mobile, api.last_otp(mobile)).status_code == 200

    def test_the_fifth_attempt_may_still_be_the_right_code(self, world: World) -> None:
        mobile = world.api.rep.mobile
        assert ask(world, mobile).status_code == 202
        code = world.api.last_otp(mobile)
        for _ in range(4):
            refused(verify(world, mobile, other_code(code)))
        assert verify(world, mobile, code).status_code == 200

    def test_a_code_works_once(self, world: World) -> None:
        mobile = world.api.rep.mobile
        assert ask(world, mobile).status_code == 202
        code = world.api.last_otp(mobile)
        assert verify(world, mobile, code).status_code == 200
        refused(verify(world, mobile, code))

    def test_an_expired_code_is_refused(self, world: World) -> None:
        api = world.api
        ttl = api.container.settings.otp_ttl
        assert ask(world, api.rep.mobile).status_code == 202
        assert ask(world, api.agent.mobile).status_code == 202
        world.clock.advance(timedelta(seconds=ttl - 1))
        assert verify(world, api.rep.mobile, api.last_otp(api.rep.mobile)).status_code == 200
        world.clock.advance(timedelta(seconds=2))
        refused(verify(world, api.agent.mobile, api.last_otp(api.agent.mobile)))

    def test_a_code_is_bound_to_its_mobile(self, world: World) -> None:
        api = world.api
        assert ask(world, api.rep.mobile).status_code == 202
        assert ask(world, api.agent.mobile).status_code == 202
        refused(verify(world, api.agent.mobile, api.last_otp(api.rep.mobile)))


class TestOtpRequest:
    def test_an_unknown_mobile_gets_the_same_answer_and_no_sms(self, world: World) -> None:
        known, unknown = ask(world, world.api.rep.mobile), ask(world, "+919812345678")
        assert known.status_code == unknown.status_code == 202
        assert known.headers["content-type"] == unknown.headers["content-type"]
        k, u = known.json(), unknown.json()
        assert set(k) == set(u) == {"request_id", "expires_in", "resend_after"}
        assert (k["expires_in"], k["resend_after"]) == (u["expires_in"], u["resend_after"])
        assert isinstance(u["request_id"], str) and u["request_id"] and u["request_id"] != k["request_id"]
        assert len(world.sms_to(world.api.rep.mobile)) == 1
        assert world.sms_to("+919812345678") == []
        refused(verify(world, "+919812345678", "123456"))

    def test_an_inactive_user_gets_the_same_answer_and_no_sms(self, world: World) -> None:
        api = world.api
        api.container.crm.users.update(api.admin.actor(), api.agent.id, UserChanges(active=False))
        active, inactive = ask(world, api.rep.mobile), ask(world, api.agent.mobile)
        assert active.status_code == inactive.status_code == 202
        assert set(active.json()) == set(inactive.json())
        assert len(world.sms_to(api.rep.mobile)) == 1
        assert world.sms_to(api.agent.mobile) == []

    def test_a_resend_within_30_s_is_429_with_retry_after(self, world: World) -> None:
        mobile = world.api.rep.mobile
        assert ask(world, mobile).status_code == 202
        world.clock.advance(timedelta(seconds=10))
        response = ask(world, mobile)
        problem(response, 429)
        assert 0 < int(response.headers["retry-after"]) <= 20
        assert len(world.sms_to(mobile)) == 1
        world.clock.advance(timedelta(seconds=20))
        assert ask(world, mobile).status_code == 202
        assert len(world.sms_to(mobile)) == 2

    def test_more_than_5_requests_per_mobile_an_hour_are_429(self, world: World) -> None:
        mobile = world.api.rep.mobile
        for _ in range(5):
            assert ask(world, mobile).status_code == 202
            world.clock.advance(RESEND)
        response = ask(world, mobile)
        problem(response, 429)
        assert int(response.headers["retry-after"]) > 0
        assert len(world.sms_to(mobile)) == 5
        assert ask(world, world.api.agent.mobile).status_code == 202  # another mobile is not affected
        world.clock.set(START + timedelta(hours=1))
        assert ask(world, mobile).status_code == 202

    def test_at_most_5_requests_per_mobile_in_any_hour(self, world: World) -> None:
        mobile = world.api.rep.mobile
        world.clock.set(START.replace(minute=57))
        accepted = 0
        for _ in range(10):
            accepted += ask(world, mobile).status_code == 202
            world.clock.advance(RESEND)
        assert accepted == 5

    def test_more_than_30_requests_a_minute_from_one_address_are_429(self, world: World) -> None:
        mobiles = [f"+91981000{i:04d}" for i in range(32)]
        for mobile in mobiles[:30]:
            assert ask(world, mobile).status_code == 202, mobile
        response = ask(world, mobiles[30])
        problem(response, 429)
        assert 0 < int(response.headers["retry-after"]) <= 60
        world.clock.advance(timedelta(seconds=60))
        assert ask(world, mobiles[31]).status_code == 202


# --- logs ---------------------------------------------------------------------------------------------------


def test_no_code_or_token_reaches_the_logs(
    world: World, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    api = world.api
    mobile = api.rep.mobile
    assert ask(world, mobile).status_code == 202
    code = api.last_otp(mobile)
    refused(verify(world, mobile, other_code(code)))
    first = verify(world, mobile, code).json()
    second = refresh(world, first["refresh_token"]).json()
    refused(refresh(world, first["refresh_token"]))  # reuse: the session ends, with the old token in the body
    world.clock.advance(RESEND)
    third = api.sign_in(api.rep)
    refused(me(world, one_character_changed(third["access_token"])))
    assert world.client.post(LOGOUT, headers=bearer(third["access_token"])).status_code == 204
    refused(me(world, third["access_token"]))

    out, err = capfd.readouterr()
    records = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    logged = "\n".join([caplog.text, records, out, err])
    assert "sms to" in logged  # the capture works: the SMS log line (digits masked) is there
    secrets = [code, api.last_otp(mobile)]
    for pair in (first, second, third):
        for name in ("access_token", "refresh_token"):
            token = pair[name]
            secrets += [token, token.rsplit(".", 1)[1]]  # the whole token, and its signature on its own
    for secret in secrets:
        assert secret not in logged
