"""Contract of the OTP, session and rate-limit stores, run against every adapter (memory, sqlite, redis, and
redis on a three-node Redis Cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.runtime import MemoryOtpStore, MemoryRateLimiter, MemorySessionStore
from adapters.redis import RedisConnection, redis_runtime
from adapters.sqlite import SqliteStore
from adapters.sqlite.runtime import sqlite_runtime
from adapters.system import FixedClock
from crm_domain.sessions import OtpChallenge, Session


@pytest.fixture(params=["memory", "sqlite", "redis", "redis-cluster"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any, Any, FixedClock]]:
    clock = FixedClock()
    if request.param == "memory":
        yield MemoryOtpStore(clock), MemorySessionStore(), MemoryRateLimiter(clock), clock
    elif request.param == "sqlite":
        otps, sessions, limiter = sqlite_runtime(SqliteStore(tmp_path / "crm.db", clock=clock), clock)
        yield otps, sessions, limiter, clock
    else:  # a real redis-server (or cluster); each test has its own key prefix
        url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
        connection = RedisConnection(url)
        assert connection.target.cluster is (request.param == "redis-cluster")
        otps, sessions, limiter = redis_runtime(connection, clock, prefix=request.getfixturevalue("redis_prefix"))
        yield otps, sessions, limiter, clock
        connection.close()


def challenge(clock: FixedClock, request_id: str = "r1", mobile: str = "+919876543210") -> OtpChallenge:
    now = clock.now()
    return OtpChallenge(
        mobile=mobile, request_id=request_id, code_hash="h" * 64, issued_at=now, expires_at=now + timedelta(seconds=300)
    )


class TestOtpStore:
    def test_issue_get_and_resend_interval(self, runtime: Any) -> None:
        otps, _, _, clock = runtime
        assert otps.issue(challenge(clock), 30) == 0
        assert otps.get("+919876543210") == challenge(clock)
        clock.advance(timedelta(seconds=10))
        assert otps.issue(challenge(clock, "r2"), 30) == 20
        assert otps.get("+919876543210").request_id == "r1"
        clock.advance(timedelta(seconds=20))
        assert otps.issue(challenge(clock, "r2"), 30) == 0
        assert otps.get("+919876543210").request_id == "r2"

    def test_attempts_count_and_consume_is_single_use(self, runtime: Any) -> None:
        otps, _, _, clock = runtime
        otps.issue(challenge(clock), 30)
        assert [otps.add_attempt("+919876543210", "r1") for _ in range(3)] == [1, 2, 3]
        assert otps.add_attempt("+919876543210", "other") > 5
        assert otps.consume("+919876543210", "r1") is True
        assert otps.consume("+919876543210", "r1") is False
        assert otps.get("+919876543210") is None

    def test_expired_challenges_are_gone(self, runtime: Any) -> None:
        otps, _, _, clock = runtime
        otps.issue(challenge(clock), 30)
        clock.advance(timedelta(seconds=301))
        assert otps.get("+919876543210") is None
        assert otps.consume("+919876543210", "r1") is False

    def test_burn_removes_the_challenge(self, runtime: Any) -> None:
        otps, _, _, clock = runtime
        otps.issue(challenge(clock), 30)
        otps.burn("+919876543210", "r1")
        assert otps.get("+919876543210") is None


class TestSessionStore:
    def session(self, clock: FixedClock, sid: str = "s1", user: str = "u1") -> Session:
        now = clock.now()
        return Session(id=sid, user_id=user, refresh_jti="j1", created_at=now, expires_at=now + timedelta(days=30))

    def test_round_trip_rotate_and_reuse(self, runtime: Any) -> None:
        _, sessions, _, clock = runtime
        sessions.create(self.session(clock))
        assert sessions.get("s1") == self.session(clock)
        assert sessions.rotate("s1", expected_jti="j1", new_jti="j2") is True
        assert sessions.rotate("s1", expected_jti="j1", new_jti="j3") is False
        assert sessions.get("s1").refresh_jti == "j2"
        assert sessions.get("missing") is None

    def test_revoke_and_revoke_user(self, runtime: Any) -> None:
        _, sessions, _, clock = runtime
        for sid, user in (("s1", "u1"), ("s2", "u1"), ("s3", "u2")):
            sessions.create(self.session(clock, sid, user))
        sessions.revoke("s3", clock.now())
        assert sessions.get("s3").revoked_at == clock.now()
        assert sessions.rotate("s3", expected_jti="j1", new_jti="j9") is False
        assert sessions.revoke_user("u1", clock.now()) == 2
        assert sessions.revoke_user("u1", clock.now()) == 0
        assert all(sessions.get(s).revoked_at is not None for s in ("s1", "s2"))


class TestRateLimiter:
    def test_at_most_limit_hits_in_any_window_with_retry_after(self, runtime: Any) -> None:
        _, _, limiter, clock = runtime
        assert [limiter.hit("k", 3, 60) for _ in range(3)] == [0, 0, 0]
        clock.advance(timedelta(seconds=15))
        assert limiter.hit("k", 3, 60) == 45
        assert limiter.hit("other", 3, 60) == 0
        clock.advance(timedelta(seconds=45))
        assert limiter.hit("k", 3, 60) == 0

    def test_a_window_boundary_does_not_double_the_allowance(self, runtime: Any) -> None:
        _, _, limiter, clock = runtime
        clock.set(clock.now().replace(minute=59, second=50, microsecond=0))
        assert [limiter.hit("m", 5, 3600) for _ in range(5)] == [0] * 5
        clock.advance(timedelta(seconds=20))  # past the top of the hour
        assert limiter.hit("m", 5, 3600) == 3580
        clock.advance(timedelta(seconds=3580))
        assert limiter.hit("m", 5, 3600) == 0

    def test_refused_hits_are_not_counted(self, runtime: Any) -> None:
        _, _, limiter, clock = runtime
        limiter.hit("r", 1, 10)
        for _ in range(5):
            assert limiter.hit("r", 1, 10) > 0
        clock.advance(timedelta(seconds=10))
        assert limiter.hit("r", 1, 10) == 0


class TestRates:
    """`throttle`: GCRA, the API limits (a burst of `rate`, then one call every period / rate)."""

    def test_a_burst_of_rate_then_one_call_per_interval(self, runtime: Any) -> None:
        _, _, limiter, clock = runtime
        assert [limiter.throttle("u", 3, 60) for _ in range(3)] == [0, 0, 0]
        assert limiter.throttle("u", 3, 60) == 20
        assert limiter.throttle("other", 3, 60) == 0
        clock.advance(timedelta(seconds=19))
        assert limiter.throttle("u", 3, 60) == 1
        clock.advance(timedelta(seconds=1))
        assert limiter.throttle("u", 3, 60) == 0
        assert limiter.throttle("u", 3, 60) == 20

    def test_refused_calls_are_not_counted_and_idle_time_refills(self, runtime: Any) -> None:
        _, _, limiter, clock = runtime
        assert limiter.throttle("r", 2, 10) == 0
        assert limiter.throttle("r", 2, 10) == 0
        for _ in range(5):
            assert limiter.throttle("r", 2, 10) == 5
        clock.advance(timedelta(seconds=60))
        assert [limiter.throttle("r", 2, 10) for _ in range(3)] == [0, 0, 5]

    def test_reset_forgets_hits_and_rates(self, runtime: Any) -> None:
        _, _, limiter, _ = runtime
        limiter.hit("k", 1, 3600)
        limiter.throttle("k", 1, 60)
        assert limiter.hit("k", 1, 3600) > 0
        assert limiter.throttle("k", 1, 60) > 0
        limiter.reset("k")
        assert limiter.hit("k", 1, 3600) == 0
        assert limiter.throttle("k", 1, 60) == 0


class TestPurge:
    """The worker's sweep deletes what no longer counts (SPEC §5: tables anonymous callers fill do not grow for
    ever); Redis keys expire by themselves, so its purges answer 0."""

    def test_purges_keep_what_still_counts(self, runtime: Any, request: pytest.FixtureRequest) -> None:
        otps, sessions, limiter, clock = runtime
        expires = not request.node.callspec.params["runtime"].startswith("redis")
        otps.issue(challenge(clock, "old", "+919876543210"), 30)
        limiter.hit("old-hit", 5, 60)
        limiter.throttle("old-rate", 5, 60)
        now = clock.now()
        sessions.create(Session(id="ended", user_id="u", refresh_jti="j", created_at=now, expires_at=now))
        sessions.create(
            Session(id="revoked", user_id="u", refresh_jti="j", created_at=now, expires_at=now + timedelta(days=1))
        )
        sessions.revoke("revoked", now)
        clock.advance(timedelta(days=1, seconds=1))
        otps.issue(challenge(clock, "new", "+919800000000"), 30)
        limiter.hit("new-hit", 5, 60)
        limiter.throttle("new-rate", 5, 60)
        sessions.create(
            Session(
                id="live",
                user_id="u",
                refresh_jti="j",
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(days=1),
            )
        )

        assert otps.purge_expired(clock.now()) == (1 if expires else 0)
        assert sessions.purge_ended(clock.now()) == (2 if expires else 0)
        assert limiter.purge(clock.now(), 86400) == (2 if expires else 0)

        assert otps.get("+919800000000").request_id == "new"
        assert sessions.get("live") is not None
        assert limiter.hit("new-hit", 1, 60) > 0
        assert limiter.throttle("new-rate", 1, 60) > 0
        assert otps.purge_expired(clock.now()) == 0
        assert sessions.purge_ended(clock.now()) == 0
        assert limiter.purge(clock.now(), 86400) == 0
