"""One Redis connection (a plain server or a Redis Cluster) built from `CRM_REDIS_URL`.

- `redis://` and `rediss://` (TLS) select one server; `redis+cluster://` and `rediss+cluster://` (or a
  `cluster=true` query parameter) select Redis Cluster through `redis.cluster.RedisCluster`.
- Every client has bounded socket and connect timeouts (overridable in the URL query, e.g.
  `?socket_timeout=0.5`) and retries a failed command at most once, quickly: a dead pooled connection after a
  Redis restart is replaced at once, and an outage is reported at once instead of after redis-py's ten retries.
- Connection failures, timeouts and cluster outages surface as the domain's `UpstreamUnavailable` (503 on
  HTTP). Messages never contain the URL (it may carry a password).
- Nothing connects when the object is built; the client is made on first use (a cluster client reads the
  cluster's slot map at that point).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import ClusterError, ReadOnlyError, RedisClusterException, TryAgainError
from redis.retry import Retry

from crm_domain.errors import UpstreamUnavailable

T = TypeVar("T")

SOCKET_TIMEOUT: Final = 2.0
CONNECT_TIMEOUT: Final = 1.0
_CLUSTER_SCHEMES: Final = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
_TRUE: Final = frozenset({"1", "true", "yes", "on"})

#: What "Redis cannot answer now" looks like: connection refused or lost, timeouts (ConnectionError and
#: TimeoutError, with their subclasses such as BusyLoadingError), a cluster that is down or failing over, a
#: replica promoted mid-write.
UPSTREAM_ERRORS: Final = (
    redis.ConnectionError,
    redis.TimeoutError,
    ClusterError,
    RedisClusterException,
    TryAgainError,
    ReadOnlyError,
)

SyncClient = redis.Redis | RedisCluster


@attrs.frozen
class RedisTarget:
    """Where to connect: a URL redis-py understands (`redis://` or `rediss://`) and whether it is a cluster."""

    url: str
    cluster: bool

    @property
    def address(self) -> str:
        """host:port, for messages (never the password)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 6379}"


def parse_redis_url(url: str) -> RedisTarget:
    """`ValueError` unless `url` is redis://, rediss://, redis+cluster:// or rediss+cluster://."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    cluster = scheme in _CLUSTER_SCHEMES
    scheme = _CLUSTER_SCHEMES.get(scheme, scheme)
    if scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ValueError("CRM_REDIS_URL must be redis://HOST[:PORT], rediss://… (TLS) or redis+cluster://…")
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "cluster":
            cluster = value.lower() in _TRUE
        else:
            query.append((name, value))
    return RedisTarget(url=urlunsplit(parts._replace(scheme=scheme, query=urlencode(query))), cluster=cluster)


def client_options(*, asyncio: bool = False) -> dict[str, Any]:
    """Keyword arguments of every client we build (values in the URL's query take precedence): bounded
    timeouts, and one quick retry instead of redis-py's default ten with up to a second of backoff each."""
    retry_class = AsyncRetry if asyncio else Retry
    return {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "retry": retry_class(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
    }


def hash_tag(value: str) -> str:
    """`{value}`: the part of a key Redis Cluster hashes, so every key of one entity lands in one slot and a
    script may touch several of them. Values that contain braces (or are empty) are replaced by a digest."""
    if not value or "{" in value or "}" in value:
        value = hashlib.sha256(value.encode()).hexdigest()[:32]
    return "{" + value + "}"


def unavailable(exc: BaseException) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"Redis is unavailable ({type(exc).__name__}); try again shortly")


class RedisConnection:
    """A lazily built synchronous client (thread-safe, pooled) shared by the runtime stores."""

    def __init__(self, url: str) -> None:
        self.target = parse_redis_url(url)
        self._client: SyncClient | None = None
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}

    def _build(self) -> SyncClient:
        options = {**client_options(), "decode_responses": True}
        if self.target.cluster:
            return RedisCluster.from_url(self.target.url, **options)
        return redis.Redis.from_url(self.target.url, **options)

    def client(self) -> SyncClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client

    def run(self, operation: Callable[[SyncClient], T]) -> T:
        """`operation(client)`, with Redis outages raised as `UpstreamUnavailable`."""
        try:
            return operation(self.client())
        except UPSTREAM_ERRORS as exc:
            raise unavailable(exc) from exc

    def script(self, lua: str, keys: Sequence[str], args: Sequence[str | int | float]) -> Any:
        """Run a Lua script atomically (EVALSHA, loading it on first use); every key must share one hash tag."""

        def call(client: SyncClient) -> Any:
            script = self._scripts.get(lua)
            if script is None:
                script = self._scripts[lua] = client.register_script(lua)
            return script(keys=list(keys), args=list(args), client=client)

        return self.run(call)

    def hash(self, key: str) -> dict[str, str]:
        """Every field of a hash (empty when the key does not exist)."""
        return cast("dict[str, str]", self.run(lambda client: client.hgetall(key)))

    def members(self, key: str) -> set[str]:
        return cast("set[str]", self.run(lambda client: client.smembers(key)))

    def ping(self) -> None:
        """`UpstreamUnavailable` unless Redis answers."""
        self.run(lambda client: client.ping())

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
