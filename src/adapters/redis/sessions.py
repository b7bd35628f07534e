"""Sessions in Redis: one hash per session (`crm:session:{SID}`) and one set of session ids per user
(`crm:user-sessions:{USER}`), which is how `revoke_user` finds a user's sessions without scanning.

Rotation is a compare-and-set in a Lua script; it is also idempotent for the same new id, so redis-py's one
retry after a lost connection cannot turn a successful rotation into a "reuse" that ends the session. A
session joins its user's set *before* its hash is written, so a crash in between leaves at most a dangling id
(skipped and pruned by `revoke_user`), never a session that `revoke_user` cannot find. Keys expire with the
session; a revoked session's key is kept at most `ENDED_RETENTION_MS` more (the other adapters' sweeps purge
ended sessions), so nothing is left to purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from adapters.epoch_micros import instant, micros
from adapters.redis.client import RedisConnection, hash_tag
from crm_domain.ports import Clock
from crm_domain.sessions import Session

_MIN_TTL_MS: Final = 1000
#: How long a revoked session's key stays (its answers are the same as a missing session's).
ENDED_RETENTION_MS: Final = 3600 * 1000

# KEYS[1] the user's set of session ids; ARGV session_id, ttl_ms. The set lives as long as its longest session.
_ADD_TO_USER: Final = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""

# KEYS[1] session; ARGV user_id, refresh_jti, created_us, expires_us, revoked_us ('' when live), ttl_ms
_CREATE: Final = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'refresh_jti', ARGV[2], 'created_at', ARGV[3],
  'expires_at', ARGV[4], 'revoked_at', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
"""

# KEYS[1] session; ARGV expected_jti, new_jti
_ROTATE: Final = """
local s = redis.call('HMGET', KEYS[1], 'refresh_jti', 'revoked_at')
if not s[1] or s[2] ~= '' then
  return 0
end
if s[1] == ARGV[2] then
  return 1
end
if s[1] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'refresh_jti', ARGV[2])
return 1
"""

# KEYS[1] session; ARGV revoked_us, retention_ms. Returns 1 when this call revoked it, 0 when it already was,
# -1 when gone.
_REVOKE: Final = """
local revoked = redis.call('HGET', KEYS[1], 'revoked_at')
if not revoked then
  return -1
end
if revoked ~= '' then
  return 0
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or ttl > tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisSessionStore:
    def __init__(self, connection: RedisConnection, clock: Clock, *, prefix: str = "crm:") -> None:
        self._redis = connection
        self._clock = clock
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{hash_tag(session_id)}"

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}user-sessions:{hash_tag(user_id)}"

    def create(self, session: Session) -> None:
        ttl_ms = max(int((session.expires_at - self._clock.now()).total_seconds() * 1000), _MIN_TTL_MS)
        self._redis.script(_ADD_TO_USER, [self._user_key(session.user_id)], [session.id, ttl_ms])
        revoked = "" if session.revoked_at is None else str(micros(session.revoked_at))
        self._redis.script(
            _CREATE,
            [self._key(session.id)],
            [
                session.user_id,
                session.refresh_jti,
                micros(session.created_at),
                micros(session.expires_at),
                revoked,
                ttl_ms,
            ],
        )

    def get(self, session_id: str) -> Session | None:
        fields = self._redis.hash(self._key(session_id))
        if not fields:
            return None
        return Session(
            id=session_id,
            user_id=fields["user_id"],
            refresh_jti=fields["refresh_jti"],
            created_at=instant(fields["created_at"]),
            expires_at=instant(fields["expires_at"]),
            revoked_at=instant(fields["revoked_at"]) if fields["revoked_at"] else None,
        )

    def rotate(self, session_id: str, *, expected_jti: str, new_jti: str) -> bool:
        return int(self._redis.script(_ROTATE, [self._key(session_id)], [expected_jti, new_jti])) == 1

    def revoke(self, session_id: str, at: datetime) -> None:
        self._redis.script(_REVOKE, [self._key(session_id)], [micros(at), ENDED_RETENTION_MS])

    def purge_ended(self, now: datetime) -> int:
        """Nothing to do: session keys expire (a revoked one within `ENDED_RETENTION_MS`)."""
        return 0

    def revoke_user(self, user_id: str, at: datetime) -> int:
        """Revokes each session of the user's set with its own atomic step (the session keys live in different
        cluster slots). A session created while this runs is either revoked or created after it: both are
        what a serial order would give."""
        user_key = self._user_key(user_id)
        session_ids = self._redis.members(user_key)
        revoked = 0
        gone = []
        for session_id in sorted(session_ids):
            outcome = int(self._redis.script(_REVOKE, [self._key(session_id)], [micros(at), ENDED_RETENTION_MS]))
            if outcome == 1:
                revoked += 1
            elif outcome == -1:
                gone.append(session_id)
        if gone:
            self._redis.run(lambda client: client.srem(user_key, *gone))
        return revoked
