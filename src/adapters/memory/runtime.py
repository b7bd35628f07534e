"""In-process OTP, session and rate-limit stores: correct for one process (tests, a single worker)."""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime

import attrs

from adapters.epoch_micros import micros
from crm_domain.ports import Clock
from crm_domain.rates import gcra
from crm_domain.sessions import OtpChallenge, Session


class MemoryOtpStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._challenges: dict[str, OtpChallenge] = {}

    def _live(self, mobile: str) -> OtpChallenge | None:
        challenge = self._challenges.get(mobile)
        if challenge is not None and challenge.expires_at <= self._clock.now():
            del self._challenges[mobile]
            return None
        return challenge

    def issue(self, challenge: OtpChallenge, resend_after: int) -> int:
        with self._lock:
            live = self._live(challenge.mobile)
            if live is not None:
                elapsed = (challenge.issued_at - live.issued_at).total_seconds()
                if elapsed < resend_after:
                    return max(math.ceil(resend_after - elapsed), 1)
            self._challenges[challenge.mobile] = challenge
            return 0

    def get(self, mobile: str) -> OtpChallenge | None:
        with self._lock:
            return self._live(mobile)

    def add_attempt(self, mobile: str, request_id: str) -> int:
        with self._lock:
            live = self._live(mobile)
            if live is None or live.request_id != request_id:
                return 1_000_000
            updated = attrs.evolve(live, attempts=live.attempts + 1)
            self._challenges[mobile] = updated
            return updated.attempts

    def consume(self, mobile: str, request_id: str) -> bool:
        with self._lock:
            live = self._live(mobile)
            if live is None or live.request_id != request_id:
                return False
            del self._challenges[mobile]
            return True

    def burn(self, mobile: str, request_id: str) -> None:
        with self._lock:
            live = self._challenges.get(mobile)
            if live is not None and live.request_id == request_id:
                del self._challenges[mobile]

    def purge_expired(self, now: datetime) -> int:
        with self._lock:
            expired = [mobile for mobile, c in self._challenges.items() if c.expires_at <= now]
            for mobile in expired:
                del self._challenges[mobile]
            return len(expired)


class MemorySessionStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id] = session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            return self._sessions.get(session_id)

    def rotate(self, session_id: str, *, expected_jti: str, new_jti: str) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.revoked_at is not None or session.refresh_jti != expected_jti:
                return False
            self._sessions[session_id] = attrs.evolve(session, refresh_jti=new_jti)
            return True

    def revoke(self, session_id: str, at: datetime) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.revoked_at is None:
                self._sessions[session_id] = attrs.evolve(session, revoked_at=at)

    def revoke_user(self, user_id: str, at: datetime) -> int:
        with self._lock:
            ids = [s.id for s in self._sessions.values() if s.user_id == user_id and s.revoked_at is None]
            for session_id in ids:
                self._sessions[session_id] = attrs.evolve(self._sessions[session_id], revoked_at=at)
            return len(ids)

    def purge_ended(self, now: datetime) -> int:
        with self._lock:
            ended = [s.id for s in self._sessions.values() if not s.active(now)]
            for session_id in ended:
                del self._sessions[session_id]
            return len(ended)


class MemoryRateLimiter:
    """A sliding window: at most `limit` accepted hits in any `window_seconds` (refused hits are not counted);
    rates by GCRA (the theoretical arrival time of the next call per key)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}
        self._arrivals: dict[str, int] = {}

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        now = self._clock.now().timestamp()
        start = now - window_seconds
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= start:
                hits.popleft()
            if len(hits) >= limit:
                return max(math.ceil(hits[0] - start), 1)
            hits.append(now)
            return 0

    def throttle(self, key: str, rate: int, period_seconds: int) -> int:
        now = micros(self._clock.now())
        with self._lock:
            verdict = gcra(self._arrivals.get(key), now, rate, period_seconds)
            if verdict.accepted:
                self._arrivals[key] = verdict.arrival
            return verdict.retry_after

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
            self._arrivals.pop(key, None)

    def purge(self, now: datetime, longest_window_seconds: int) -> int:
        start = now.timestamp() - longest_window_seconds
        until = micros(now)
        with self._lock:
            purged = 0
            for key, hits in list(self._hits.items()):
                while hits and hits[0] <= start:
                    hits.popleft()
                    purged += 1
                if not hits:
                    del self._hits[key]
            for key, arrival in list(self._arrivals.items()):
                if arrival <= until:
                    del self._arrivals[key]
                    purged += 1
            return purged
