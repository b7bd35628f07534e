"""Sign-in values: OTP challenges and server-side sessions (SPEC §5)."""

from __future__ import annotations

from datetime import datetime

import attrs


@attrs.frozen(kw_only=True)
class AuthPolicy:
    """The sign-in rules of SPEC §5. Every limit keyed on a mobile is at most an hour long, so no one can lock a
    user out for longer (the daily cap excepted: it is the SMS budget; `AuthService.unlock` lifts both)."""

    otp_ttl: int = 300
    otp_max_attempts: int = 5
    otp_resend_after: int = 30
    otp_per_mobile_per_hour: int = 5
    otp_per_mobile_per_day: int = 10
    otp_per_ip_per_minute: int = 30
    verify_per_ip_per_minute: int = 60
    refresh_ttl: int = 30 * 24 * 3600


@attrs.frozen(kw_only=True)
class OtpChallenge:
    mobile: str
    request_id: str
    code_hash: str
    issued_at: datetime
    expires_at: datetime
    attempts: int = 0


@attrs.frozen(kw_only=True)
class Session:
    id: str
    user_id: str
    refresh_jti: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
