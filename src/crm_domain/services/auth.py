"""Sign-in by one-time password and server-side sessions (SPEC §5).

OTPs are 6 random digits from `secrets`, kept only as an HMAC with a TTL, verified at most 5 times in
constant time, and used once. Requests are limited per mobile and per client address, atomically in the
store behind `RateLimiter`. Unknown and inactive mobiles get the same answer as active ones (no
enumeration); only active users are sent an SMS. Sessions live in a `SessionStore` so that logout,
deactivation and refresh-token reuse end them at once; the edge turns sessions into signed tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import attrs

from crm_domain.errors import (
    RecipientRejected,
    TooManyRequests,
    Unauthenticated,
    UpstreamUnavailable,
    ValidationFailed,
)
from crm_domain.ports import OtpStore, RateLimiter, SessionStore, SmsSender
from crm_domain.services.context import ServiceContext
from crm_domain.sessions import AuthPolicy, OtpChallenge, Session
from crm_domain.users import User

log = logging.getLogger("crm.auth")

OTP_DIGITS = 6


@attrs.frozen(kw_only=True)
class OtpRequested:
    request_id: str
    expires_in: int
    resend_after: int


@attrs.frozen(kw_only=True)
class SignedIn:
    user: User
    session: Session


WRONG_OTP = "the code is wrong or has expired"
HOUR = 3600
DAY = 24 * HOUR


def _hourly(mobile: str) -> str:
    return f"otp:mobile:{mobile}"


def _daily(mobile: str) -> str:
    return f"otp:mobile-day:{mobile}"


@attrs.frozen(kw_only=True)
class RuntimePurge:
    """What a housekeeping sweep removed from the runtime stores."""

    otps: int
    sessions: int
    rate_records: int

    @property
    def total(self) -> int:
        return self.otps + self.sessions + self.rate_records


class AuthService:
    def __init__(
        self,
        ctx: ServiceContext,
        *,
        otps: OtpStore,
        sessions: SessionStore,
        limiter: RateLimiter,
        sms: SmsSender,
        otp_key: bytes,
        policy: AuthPolicy | None = None,
    ) -> None:
        if len(otp_key) < 16:
            raise ValueError("the OTP key must be at least 16 bytes")
        self._ctx = ctx
        self._otps = otps
        self._sessions = sessions
        self._limiter = limiter
        self._sms = sms
        self._key = otp_key
        self.policy = policy or AuthPolicy()

    def _hash(self, mobile: str, code: str) -> str:
        return hmac.new(self._key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()

    def _limit(self, key: str, limit: int, window: int, what: str) -> None:
        retry_after = self._limiter.hit(key, limit, window)
        if retry_after > 0:
            raise TooManyRequests(f"too many {what}; try again in {retry_after} s", retry_after=retry_after)

    def request_otp(self, mobile_raw: str, client: str) -> OtpRequested:
        """Issue a code and text it to an active user; the answer is the same whoever owns the mobile."""
        p = self.policy
        self._limit(f"otp:ip:{client}", p.otp_per_ip_per_minute, 60, "code requests from this address")
        mobile = self._ctx.mobiles.normalise(mobile_raw)
        now = self._ctx.now()
        code = f"{secrets.randbelow(10**OTP_DIGITS):0{OTP_DIGITS}d}"
        challenge = OtpChallenge(
            mobile=mobile,
            request_id=self._ctx.ids.new_id(),
            code_hash=self._hash(mobile, code),
            issued_at=now,
            expires_at=now + timedelta(seconds=p.otp_ttl),
        )
        live = self._otps.get(mobile)
        if live is not None and (now - live.issued_at).total_seconds() < p.otp_resend_after:
            wait = p.otp_resend_after - int((now - live.issued_at).total_seconds())
            raise TooManyRequests(f"a code was sent just now; ask again in {wait} s", retry_after=wait)
        self._limit(_hourly(mobile), p.otp_per_mobile_per_hour, HOUR, "code requests for this mobile")
        self._limit(_daily(mobile), p.otp_per_mobile_per_day, DAY, "code requests for this mobile today")
        wait = self._otps.issue(challenge, p.otp_resend_after)  # re-checks the interval atomically
        if wait > 0:
            raise TooManyRequests(f"a code was sent just now; ask again in {wait} s", retry_after=wait)
        user = self._ctx.read(lambda uow: uow.users.get_by_mobile(mobile))
        if user is not None and user.active:
            minutes = max(p.otp_ttl // 60, 1)
            try:
                self._sms.send(
                    mobile, f"{code} is your CRM sign-in code. It expires in {minutes} min. Do not share it."
                )
            except (UpstreamUnavailable, RecipientRejected) as exc:
                # The answer must not tell a registered mobile from an unknown one (SPEC §5): unknown mobiles get
                # 202 and no SMS, so a failed send answers the same. The user asks again after the resend
                # interval; operators see the failure here (its code only: no number, no OTP).
                log.error("sign-in code not sent: %s", exc.code)
        return OtpRequested(request_id=challenge.request_id, expires_in=p.otp_ttl, resend_after=p.otp_resend_after)

    def verify_otp(self, mobile_raw: str, code: str, client: str) -> SignedIn:
        """Check a code (at most `otp_max_attempts` tries, then it is burned) and open a session."""
        p = self.policy
        self._limit(f"verify:ip:{client}", p.verify_per_ip_per_minute, 60, "sign-in attempts from this address")
        try:
            mobile = self._ctx.mobiles.normalise(mobile_raw)
        except ValidationFailed as exc:
            raise Unauthenticated(WRONG_OTP) from exc
        challenge = self._otps.get(mobile)
        now = self._ctx.now()
        if challenge is None or challenge.expires_at <= now:
            raise Unauthenticated(WRONG_OTP)
        if self._otps.add_attempt(mobile, challenge.request_id) > p.otp_max_attempts:
            # Burned: the challenge stays (refusing every code) until it expires or the resend gap has passed and
            # a new one replaces it, so a burn never buys a new code at once (SPEC §5).
            raise Unauthenticated("too many wrong codes; request a new one")
        candidate = code if isinstance(code, str) and code.isdigit() and len(code) == OTP_DIGITS else "x"
        if not hmac.compare_digest(self._hash(mobile, candidate), challenge.code_hash):
            raise Unauthenticated(WRONG_OTP)
        if not self._otps.consume(mobile, challenge.request_id):
            raise Unauthenticated(WRONG_OTP)
        user = self._ctx.read(lambda uow: uow.users.get_by_mobile(mobile))
        if user is None or not user.active:
            raise Unauthenticated(WRONG_OTP)
        session = Session(
            id=self._ctx.ids.new_id(),
            user_id=user.id,
            refresh_jti=self._ctx.ids.new_id(),
            created_at=now,
            expires_at=now + timedelta(seconds=p.refresh_ttl),
        )
        self._sessions.create(session)
        return SignedIn(user=user, session=session)

    def refresh(self, session_id: str, refresh_jti: str) -> SignedIn:
        """Rotate the refresh token. Presenting a token that was already rotated ends the whole session."""
        now = self._ctx.now()
        session = self._sessions.get(session_id)
        if session is None or not session.active(now):
            raise Unauthenticated("the session has ended; sign in again")
        new_jti = self._ctx.ids.new_id()
        if not self._sessions.rotate(session_id, expected_jti=refresh_jti, new_jti=new_jti):
            self._sessions.revoke(session_id, now)
            raise Unauthenticated("this refresh token was already used; the session has been ended")
        user = self._ctx.read(lambda uow: uow.users.get(session.user_id))
        if user is None or not user.active:
            self._sessions.revoke(session_id, now)
            raise Unauthenticated("the session has ended; sign in again")
        return SignedIn(user=user, session=attrs.evolve(session, refresh_jti=new_jti))

    def logout(self, session_id: str) -> None:
        self._sessions.revoke(session_id, self._ctx.now())

    def session_active(self, session_id: str) -> bool:
        """The per-request check behind every access token."""
        session = self._sessions.get(session_id)
        return session is not None and session.active(self._ctx.now())

    def end_sessions(self, user_id: str) -> int:
        """End every session of a user (deactivation, role change)."""
        return self._sessions.revoke_user(user_id, self._ctx.now())

    def unlock(self, mobile_raw: str) -> None:
        """An operator lifts a mobile's sign-in lock-out: its code limits (hour and day) and its live or burned
        code are forgotten, so a new code can be requested at once (`crm users unlock`)."""
        mobile = self._ctx.mobiles.normalise(mobile_raw)
        self._limiter.reset(_hourly(mobile))
        self._limiter.reset(_daily(mobile))
        live = self._otps.get(mobile)
        if live is not None:
            self._otps.burn(mobile, live.request_id)
        log.info("sign-in lock-out lifted by an operator")

    def purge_expired(self) -> RuntimePurge:
        """Delete expired codes, ended sessions and rate-limit records that no longer count (the worker's sweep)."""
        now = self._ctx.now()
        return RuntimePurge(
            otps=self._otps.purge_expired(now),
            sessions=self._sessions.purge_ended(now),
            rate_records=self._limiter.purge(now, DAY),
        )
