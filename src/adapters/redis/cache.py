"""The store behind Litestar's response cache, in Redis: Litestar's own `RedisStore` on an asyncio client with
the same URL rules, timeouts and retry as the runtime stores, and Redis outages raised as the domain's
`UpstreamUnavailable` (so a cached route answers 503 problem details, not 500, while Redis is down).

Every key is one Redis key (`crm:cache:…`) used by single-key commands only, which any cluster serves.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import redis.asyncio
from litestar.stores.redis import RedisStore
from redis.asyncio.cluster import RedisCluster

from adapters.redis.client import UPSTREAM_ERRORS, client_options, parse_redis_url, unavailable


class RedisResponseStore(RedisStore):
    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            return await super().get(key, renew_for)
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        try:
            await super().set(key, value, expires_in)
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc

    async def delete(self, key: str) -> None:
        try:
            await super().delete(key)
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc

    async def exists(self, key: str) -> bool:
        try:
            return await super().exists(key)
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc

    async def expires_in(self, key: str) -> int | None:
        try:
            return await super().expires_in(key)
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc


def redis_response_store(url: str, *, namespace: str = "crm:cache") -> RedisResponseStore:
    """A store for one event loop (one per app instance); nothing connects until the first command."""
    target = parse_redis_url(url)
    client: Any
    if target.cluster:
        client = RedisCluster.from_url(target.url, **client_options(asyncio=True))
    else:
        client = redis.asyncio.Redis.from_url(target.url, **client_options(asyncio=True))
    return RedisResponseStore(cast("redis.asyncio.Redis", client), namespace=namespace)
