"""Rate limits in Redis: an exact sliding window per limit key, like the SQLite and in-memory limiters.

The accepted hits of a key are a sorted set scored by their time (`crm:rate:{KEY}:hits`); one Lua script drops
the hits older than the window, counts the rest, and either refuses (answering the seconds until the oldest
counted hit leaves the window: the Retry-After) or records the hit. Members are numbered by a counter in the
same hash slot (`crm:rate:{KEY}:seq`), so hits at the same instant are all counted. Refused hits are not
counted. The time is the injected clock's, so every process must keep its clock in sync (NTP), as with the
other stores.

Rates (`throttle`, the API limits) are one string per key (`crm:rate:{KEY}:tat`), the GCRA arrival time of
`crm_domain.rates`, updated by one Lua script and expiring when it has passed. Every key here carries a TTL, so
nothing is left to purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from adapters.epoch_micros import micros
from adapters.redis.client import RedisConnection, hash_tag
from crm_domain.ports import Clock
from crm_domain.rates import MICROS, emission_interval

# KEYS[1] hits (sorted set), KEYS[2] sequence; ARGV now_us, window_us, limit, ttl_ms
_HIT: Final = """
local now = tonumber(ARGV[1])
local start = now - tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', start)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] == nil then
    return math.max(math.ceil(tonumber(ARGV[2]) / 1000000), 1)
  end
  return math.max(math.ceil((tonumber(oldest[2]) - start) / 1000000), 1)
end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], now, seq)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 0
"""


# KEYS[1] arrival time; ARGV now_us, step_us, period_us. Integers below 2**53 are exact in Lua's doubles.
_THROTTLE: Final = """
local now = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then
  tat = now
end
local after = tat + tonumber(ARGV[2])
local ahead = after - now
if ahead > tonumber(ARGV[3]) then
  return math.max(math.ceil((ahead - tonumber(ARGV[3])) / 1000000), 1)
end
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.ceil(ahead / 1000) + 1000)
return 0
"""


class RedisRateLimiter:
    """At most `limit` accepted hits in any `window_seconds`, atomically across processes."""

    def __init__(self, connection: RedisConnection, clock: Clock, *, prefix: str = "crm:") -> None:
        self._redis = connection
        self._clock = clock
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        tag = hash_tag(key)
        keys = [f"{self._prefix}rate:{tag}:hits", f"{self._prefix}rate:{tag}:seq"]
        now = micros(self._clock.now())
        ttl_ms = window_seconds * 1000 + 1000
        return int(self._redis.script(_HIT, keys, [now, window_seconds * 1_000_000, limit, ttl_ms]))

    def throttle(self, key: str, rate: int, period_seconds: int) -> int:
        step = emission_interval(rate, period_seconds)
        now = micros(self._clock.now())
        keys = [f"{self._prefix}rate:{hash_tag(key)}:tat"]
        return int(self._redis.script(_THROTTLE, keys, [now, step, period_seconds * MICROS]))

    def reset(self, key: str) -> None:
        tag = hash_tag(key)
        names = [f"{self._prefix}rate:{tag}:{part}" for part in ("hits", "seq", "tat")]
        self._redis.run(lambda client: client.delete(*names))

    def purge(self, now: datetime, longest_window_seconds: int) -> int:
        """Nothing to do: every key expires by itself."""
        return 0
