"""The Redis adapters beyond the shared runtime-store contract: URL forms, hash tags, atomicity under
concurrency, keys that expire by themselves, the response-cache store, and what an outage looks like
(`UpstreamUnavailable` at once, recovery without a restart). Every test uses a real redis-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import key_slot

from adapters.redis import RedisConnection, parse_redis_url, redis_runtime
from adapters.redis.cache import RedisResponseStore, redis_response_store
from adapters.redis.client import hash_tag
from adapters.system import FixedClock
from crm_domain.errors import UpstreamUnavailable
from crm_domain.sessions import OtpChallenge, Session
from entrypoints.bootstrap import ConfigurationError, build_redis
from entrypoints.settings import Settings
from tests.redis_server import RedisServer, make_certificates

MOBILE = "+919876543210"


def challenge(clock: FixedClock, request_id: str = "r1") -> OtpChallenge:
    now = clock.now()
    return OtpChallenge(
        mobile=MOBILE, request_id=request_id, code_hash="h" * 64, issued_at=now, expires_at=now + timedelta(seconds=300)
    )


def session(clock: FixedClock, sid: str = "s1", user: str = "u1") -> Session:
    now = clock.now()
    return Session(id=sid, user_id=user, refresh_jti="j1", created_at=now, expires_at=now + timedelta(days=30))


@pytest.fixture
def connection(redis_url: str) -> Iterator[RedisConnection]:
    c = RedisConnection(redis_url)
    yield c
    c.close()


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "plain", "cluster"),
        [
            ("redis://h:6379/0", "redis://h:6379/0", False),
            ("rediss://:pw@h:6380?ssl_ca_certs=/ca.pem", "rediss://:pw@h:6380?ssl_ca_certs=%2Fca.pem", False),
            ("redis+cluster://h:7000", "redis://h:7000", True),
            ("rediss+cluster://u:pw@h:7000", "rediss://u:pw@h:7000", True),
            ("redis://h:7000?cluster=true&socket_timeout=0.5", "redis://h:7000?socket_timeout=0.5", True),
            ("redis://h:7000?cluster=false", "redis://h:7000", False),
        ],
    )
    def test_schemes_select_tls_and_cluster(self, url: str, plain: str, cluster: bool) -> None:
        target = parse_redis_url(url)
        assert (target.url, target.cluster) == (plain, cluster)

    @pytest.mark.parametrize("url", ["http://h:6379", "unix:///tmp/r.sock", "redis://", "h:6379"])
    def test_other_urls_are_a_configuration_error_that_hides_the_url(self, url: str) -> None:
        with pytest.raises(ValueError, match="CRM_REDIS_URL must be"):
            parse_redis_url(url)
        with pytest.raises(ConfigurationError) as raised:
            build_redis(Settings(redis_url=url.replace("h:", "user:hunter2@h:"), database_url="memory://"))
        assert "hunter2" not in str(raised.value)

    def test_the_clients_have_bounded_timeouts_and_one_retry(self, connection: RedisConnection) -> None:
        kwargs = connection.client().connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert kwargs["socket_timeout"] == 2.0
        assert kwargs["socket_connect_timeout"] == 1.0
        assert kwargs["retry"].get_retries() == 1


class TestHashTags:
    def test_the_keys_of_one_rate_limit_share_a_slot(self, connection: RedisConnection, raw: redis.Redis) -> None:
        _, _, limiter = redis_runtime(connection, FixedClock(), prefix="tags:")
        limiter.hit("otp:ip:10.0.0.1", 5, 60)
        keys = sorted(raw.scan_iter("tags:rate:*"))
        assert keys == ["tags:rate:{otp:ip:10.0.0.1}:hits", "tags:rate:{otp:ip:10.0.0.1}:seq"]
        assert len({key_slot(k.encode()) for k in keys}) == 1

    def test_values_with_braces_become_a_digest_so_the_tag_stays_whole(self) -> None:
        assert hash_tag("u1") == "{u1}"
        tagged = hash_tag("a}b{c")
        assert tagged.startswith("{") and tagged.endswith("}") and "}" not in tagged[1:-1]
        assert key_slot(f"x:{tagged}:hits".encode()) == key_slot(f"y:{tagged}:seq".encode())
        assert hash_tag("") != "{}"  # an empty tag would hash the whole key


class TestAtomicity:
    """Several threads (each with its own connection, as separate processes would have)."""

    def run_in_threads(self, redis_url: str, prefix: str, work: Callable[[Any, int], Any], n: int) -> list[Any]:
        clock = FixedClock()
        connections = [RedisConnection(redis_url) for _ in range(4)]
        runtimes = [redis_runtime(c, clock, prefix=prefix) for c in connections]
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                return list(pool.map(lambda i: work(runtimes[i % 4], i), range(n)))
        finally:
            for c in connections:
                c.close()

    def test_concurrent_hits_never_pass_the_limit(self, redis_url: str, redis_prefix: str) -> None:
        results = self.run_in_threads(redis_url, redis_prefix, lambda rt, _: rt[2].hit("k", 25, 60), 120)
        assert results.count(0) == 25
        assert all(r == 60 for r in results if r)

    def test_one_concurrent_consume_wins(self, connection: RedisConnection, redis_url: str, redis_prefix: str) -> None:
        otps, _, _ = redis_runtime(connection, FixedClock(), prefix=redis_prefix)
        otps.issue(challenge(FixedClock()), 30)
        results = self.run_in_threads(redis_url, redis_prefix, lambda rt, _: rt[0].consume(MOBILE, "r1"), 40)
        assert results.count(True) == 1

    def test_concurrent_attempts_are_each_counted(
        self, connection: RedisConnection, redis_url: str, redis_prefix: str
    ) -> None:
        otps, _, _ = redis_runtime(connection, FixedClock(), prefix=redis_prefix)
        otps.issue(challenge(FixedClock()), 30)
        results = self.run_in_threads(redis_url, redis_prefix, lambda rt, _: rt[0].add_attempt(MOBILE, "r1"), 40)
        assert sorted(results) == list(range(1, 41))

    def test_one_concurrent_rotation_wins_and_a_retried_one_is_not_reuse(
        self, connection: RedisConnection, redis_url: str, redis_prefix: str
    ) -> None:
        _, sessions, _ = redis_runtime(connection, FixedClock(), prefix=redis_prefix)
        sessions.create(session(FixedClock()))
        results = self.run_in_threads(
            redis_url, redis_prefix, lambda rt, i: rt[1].rotate("s1", expected_jti="j1", new_jti=f"n{i}"), 40
        )
        assert results.count(True) == 1
        winner = sessions.get("s1").refresh_jti
        assert (
            sessions.rotate("s1", expected_jti="j1", new_jti=winner) is True
        )  # the same rotation again (a retry after a lost reply)
        assert sessions.rotate("s1", expected_jti="j1", new_jti="other") is False


class TestExpiry:
    def test_redis_forgets_challenges_sessions_and_windows_by_itself(
        self, connection: RedisConnection, raw: redis.Redis, redis_prefix: str
    ) -> None:
        clock = FixedClock()
        otps, sessions, limiter = redis_runtime(connection, clock, prefix=redis_prefix)
        otps.issue(challenge(clock), 30)
        sessions.create(session(clock))
        limiter.hit("k", 3, 60)
        ttl = {key.removeprefix(redis_prefix): raw.pttl(key) for key in raw.scan_iter(f"{redis_prefix}*")}
        assert 295_000 < ttl.pop(f"otp:{{{MOBILE}}}") <= 300_000
        month = 30 * 24 * 3600 * 1000
        assert month - 5000 < ttl.pop("session:{s1}") <= month
        assert month - 5000 < ttl.pop("user-sessions:{u1}") <= month
        assert 55_000 < ttl.pop("rate:{k}:hits") <= 61_000
        assert 55_000 < ttl.pop("rate:{k}:seq") <= 61_000
        assert ttl == {}

    def test_revoke_user_prunes_sessions_redis_has_forgotten(
        self, connection: RedisConnection, raw: redis.Redis, redis_prefix: str
    ) -> None:
        clock = FixedClock()
        _, sessions, _ = redis_runtime(connection, clock, prefix=redis_prefix)
        sessions.create(session(clock, "s1"))
        sessions.create(session(clock, "s2"))
        raw.delete(f"{redis_prefix}session:{{s1}}")  # as if its TTL had run out
        assert sessions.revoke_user("u1", clock.now()) == 1
        assert raw.smembers(f"{redis_prefix}user-sessions:{{u1}}") == {"s2"}


class TestResponseCacheStore:
    def test_round_trip_with_expiry_under_the_crm_namespace(self, redis_url: str, raw: redis.Redis) -> None:
        async def scenario() -> tuple[Any, ...]:
            store = redis_response_store(redis_url, namespace="cache-test")
            await store.set("catalogue-version", "v1", expires_in=30)
            got = await store.get("catalogue-version")
            exists = await store.exists("catalogue-version")
            expires = await store.expires_in("catalogue-version")
            await store.delete("catalogue-version")
            gone = await store.get("catalogue-version")
            await store._redis.aclose()
            return got, exists, expires, gone

        got, exists, expires, gone = asyncio.run(scenario())
        assert (got, exists, gone) == (b"v1", True, None)
        assert 0 < expires <= 30
        assert raw.exists("cache-test:catalogue-version") == 0


class TestOutage:
    def test_a_stopped_redis_is_upstream_unavailable_at_once_and_recovery_needs_no_restart(
        self, redis_server_factory: Callable[[], RedisServer]
    ) -> None:
        server = redis_server_factory()
        clock = FixedClock()
        connection = RedisConnection(server.url)
        otps, sessions, limiter = redis_runtime(connection, clock)
        sessions.create(session(clock))
        assert limiter.hit("k", 5, 60) == 0  # the pool now holds a live connection

        server.stop()
        operations: list[Callable[[], Any]] = [
            connection.ping,
            lambda: otps.issue(challenge(clock), 30),
            lambda: otps.get(MOBILE),
            lambda: otps.add_attempt(MOBILE, "r1"),
            lambda: otps.consume(MOBILE, "r1"),
            lambda: sessions.get("s1"),
            lambda: sessions.rotate("s1", expected_jti="j1", new_jti="j2"),
            lambda: sessions.revoke_user("u1", clock.now()),
            lambda: limiter.hit("k", 5, 60),
        ]
        for operation in operations:
            started = time.monotonic()
            with pytest.raises(UpstreamUnavailable, match="Redis is unavailable"):
                operation()
            assert time.monotonic() - started < 2.0

        server.start()  # same port, empty (no persistence): the same objects work again
        connection.ping()
        assert sessions.get("s1") is None
        assert otps.issue(challenge(clock), 30) == 0
        assert limiter.hit("k", 5, 60) == 0
        connection.close()

    def test_the_response_cache_store_reports_an_outage_as_upstream_unavailable(
        self, redis_server_factory: Callable[[], RedisServer]
    ) -> None:
        server = redis_server_factory()

        async def scenario() -> None:
            store: RedisResponseStore = redis_response_store(server.url)
            await store.set("k", b"v")
            server.stop()
            with pytest.raises(UpstreamUnavailable):
                await store.get("k")
            with pytest.raises(UpstreamUnavailable):
                await store.set("k", b"w")
            server.start()
            assert await store.get("k") is None
            await store.set("k", b"w")
            assert await store.get("k") == b"w"
            await store._redis.aclose()

        asyncio.run(scenario())


class TestTls:
    def test_rediss_talks_tls_and_checks_the_certificate(
        self, redis_server_factory: Callable[..., RedisServer], tmp_path: Path
    ) -> None:
        server = redis_server_factory(tls=True)
        clock = FixedClock()
        connection = RedisConnection(server.url)  # rediss://127.0.0.1:PORT?ssl_ca_certs=…/ca.pem
        otps, _, limiter = redis_runtime(connection, clock)
        assert otps.issue(challenge(clock), 30) == 0
        assert otps.get(MOBILE) == challenge(clock)
        assert limiter.hit("k", 1, 60) == 0
        connection.close()

        plain = RedisConnection(f"redis://127.0.0.1:{server.port}")  # no TLS: the server does not answer
        with pytest.raises(UpstreamUnavailable):
            plain.ping()
        (tmp_path / "other-ca").mkdir()
        make_certificates(tmp_path / "other-ca")
        untrusted = RedisConnection(f"rediss://127.0.0.1:{server.port}?ssl_ca_certs={tmp_path / 'other-ca/ca.pem'}")
        with pytest.raises(UpstreamUnavailable):  # a certificate from a CA we do not trust
            untrusted.ping()
