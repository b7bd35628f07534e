"""Redis (or Redis Cluster) adapters of the runtime-store ports: OTP challenges, sessions, rate limits, and the
store of Litestar's response cache. Chosen by `CRM_REDIS_URL`; see docs/decisions/0007-redis-runtime-stores.md."""

from __future__ import annotations

from adapters.redis.client import RedisConnection, RedisTarget, parse_redis_url
from adapters.redis.limiter import RedisRateLimiter
from adapters.redis.otp import RedisOtpStore
from adapters.redis.sessions import RedisSessionStore
from crm_domain.ports import Clock

__all__ = [
    "RedisConnection",
    "RedisOtpStore",
    "RedisRateLimiter",
    "RedisSessionStore",
    "RedisTarget",
    "parse_redis_url",
    "redis_runtime",
]


def redis_runtime(
    connection: RedisConnection, clock: Clock, *, prefix: str = "crm:"
) -> tuple[RedisOtpStore, RedisSessionStore, RedisRateLimiter]:
    """The three runtime stores on one connection; every key starts with `prefix`."""
    return (
        RedisOtpStore(connection, clock, prefix=prefix),
        RedisSessionStore(connection, clock, prefix=prefix),
        RedisRateLimiter(connection, clock, prefix=prefix),
    )
