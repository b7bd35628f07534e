"""Sign-in shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from crm_domain.users import Role, User
from entrypoints.http.schemas.common import In, Out


class OtpRequestIn(In):
    mobile: Annotated[str, StringConstraints(min_length=4, max_length=32)]


class OtpRequestOut(Out):
    request_id: str
    expires_in: int = Field(description="Seconds the code stays valid.")
    resend_after: int = Field(description="Seconds before another code may be requested.")


class OtpVerifyIn(In):
    mobile: Annotated[str, StringConstraints(min_length=4, max_length=32)]
    otp: Annotated[str, StringConstraints(min_length=1, max_length=12)]


class RefreshIn(In):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=4096)]


class UserOut(Out):
    id: str
    mobile: str
    name: str
    email: str | None
    roles: list[Role]
    manager_id: str | None
    territory: str | None
    customer_id: str | None
    active: bool
    permissions: list[str] | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User, *, with_permissions: bool = False) -> UserOut:
        return cls(
            id=user.id,
            mobile=user.mobile,
            name=user.name,
            email=user.email,
            roles=sorted(user.roles),
            manager_id=user.manager_id,
            territory=user.territory,
            customer_id=user.customer_id,
            active=user.active,
            permissions=sorted(user.permissions) if with_permissions else None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class TokenPairOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    user: UserOut
