"""OTP challenges in Redis: one hash per mobile (`crm:otp:{MOBILE}`) holding the request id, the code's HMAC,
issue and expiry times and the attempt count. Every read-modify-write step is one Lua script, so issuing
(with the resend interval), counting attempts and the single-use consume are atomic across processes.

Times come from the injected clock (like the other adapters) and are compared inside the scripts; the key
also gets a Redis TTL of the challenge's remaining lifetime, so Redis forgets expired challenges by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from adapters.epoch_micros import instant, micros
from adapters.redis.client import RedisConnection, hash_tag
from crm_domain.ports import Clock
from crm_domain.sessions import OtpChallenge

#: add_attempt's answer when there is no such live challenge: above any attempt limit.
NO_CHALLENGE: Final = 1_000_000

# KEYS[1] challenge; ARGV now_us, request_id, code_hash, issued_us, expires_us, resend_after_s, ttl_ms
_ISSUE: Final = """
local live = redis.call('HMGET', KEYS[1], 'issued_at', 'expires_at')
if live[2] and tonumber(live[2]) > tonumber(ARGV[1]) then
  local elapsed = (tonumber(ARGV[4]) - tonumber(live[1])) / 1000000
  local resend = tonumber(ARGV[6])
  if elapsed < resend then
    return math.max(math.ceil(resend - elapsed), 1)
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'request_id', ARGV[2], 'code_hash', ARGV[3], 'issued_at', ARGV[4],
  'expires_at', ARGV[5], 'attempts', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 0
"""

# KEYS[1] challenge; ARGV now_us, request_id, no_challenge
_ADD_ATTEMPT: Final = """
local live = redis.call('HMGET', KEYS[1], 'request_id', 'expires_at')
if live[1] ~= ARGV[2] or tonumber(live[2]) <= tonumber(ARGV[1]) then
  return tonumber(ARGV[3])
end
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""

# KEYS[1] challenge; ARGV now_us, request_id. Returns 1 only to the caller that deleted a live challenge.
_CONSUME: Final = """
local live = redis.call('HMGET', KEYS[1], 'request_id', 'expires_at')
if live[1] ~= ARGV[2] or tonumber(live[2]) <= tonumber(ARGV[1]) then
  return 0
end
return redis.call('DEL', KEYS[1])
"""

# KEYS[1] challenge; ARGV request_id
_BURN: Final = """
if redis.call('HGET', KEYS[1], 'request_id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisOtpStore:
    def __init__(self, connection: RedisConnection, clock: Clock, *, prefix: str = "crm:") -> None:
        self._redis = connection
        self._clock = clock
        self._prefix = prefix

    def _key(self, mobile: str) -> str:
        return f"{self._prefix}otp:{hash_tag(mobile)}"

    def issue(self, challenge: OtpChallenge, resend_after: int) -> int:
        now = self._clock.now()
        ttl_ms = max((challenge.expires_at - now).total_seconds() * 1000, 1)
        waited = self._redis.script(
            _ISSUE,
            [self._key(challenge.mobile)],
            [
                micros(now),
                challenge.request_id,
                challenge.code_hash,
                micros(challenge.issued_at),
                micros(challenge.expires_at),
                resend_after,
                int(ttl_ms),
            ],
        )
        return int(waited)

    def get(self, mobile: str) -> OtpChallenge | None:
        fields = self._redis.hash(self._key(mobile))
        if not fields or int(fields["expires_at"]) <= micros(self._clock.now()):
            return None
        return OtpChallenge(
            mobile=mobile,
            request_id=fields["request_id"],
            code_hash=fields["code_hash"],
            issued_at=instant(fields["issued_at"]),
            expires_at=instant(fields["expires_at"]),
            attempts=int(fields["attempts"]),
        )

    def add_attempt(self, mobile: str, request_id: str) -> int:
        now = micros(self._clock.now())
        return int(self._redis.script(_ADD_ATTEMPT, [self._key(mobile)], [now, request_id, NO_CHALLENGE]))

    def consume(self, mobile: str, request_id: str) -> bool:
        now = micros(self._clock.now())
        return int(self._redis.script(_CONSUME, [self._key(mobile)], [now, request_id])) == 1

    def burn(self, mobile: str, request_id: str) -> None:
        self._redis.script(_BURN, [self._key(mobile)], [request_id])

    def purge_expired(self, now: datetime) -> int:
        """Nothing to do: a challenge's key expires with it."""
        return 0
