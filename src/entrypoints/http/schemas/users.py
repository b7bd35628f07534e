"""User shapes (SPEC §4 "user in"); users go out as `schemas.auth.UserOut`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from crm_domain.services.users import NewUser, UserChanges
from crm_domain.users import Role
from entrypoints.http.schemas.common import ExactBool, Id, In, ShortText
from entrypoints.http.schemas.customers import Mobile, Name

RoleName = Literal["sales_rep", "dealer", "call_center_agent", "sales_manager", "credit_controller", "admin"]
Roles = Annotated[list[RoleName], Field(min_length=1, max_length=6)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254)]


class UserIn(In):
    mobile: Mobile = Field(description="E.164, or a national number of the default region (IN); unique.")
    name: Name
    roles: Roles
    email: Email | None = None
    manager_id: Id | None = None
    territory: ShortText | None = None
    customer_id: Id | None = Field(default=None, description="Dealer users only: the customer they order for.")

    def command(self) -> NewUser:
        return NewUser(
            mobile=self.mobile,
            name=self.name,
            roles=frozenset(Role(r) for r in self.roles),
            email=self.email,
            manager_id=self.manager_id,
            territory=self.territory,
            customer_id=self.customer_id,
        )


_NOT_NULL = ("mobile", "name", "roles", "active")
#: Changes that the user's tokens carry (roles, customer) or that lock them out: their sessions end.
_ENDS_SESSIONS = ("roles", "customer_id")


class UserPatchIn(In):
    """Only the fields present change; `{"active": false}` deactivates the user and ends their sessions."""

    mobile: Mobile | None = None
    name: Name | None = None
    roles: Roles | None = None
    email: Email | None = None
    manager_id: Id | None = None
    territory: ShortText | None = None
    customer_id: Id | None = None
    active: ExactBool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> UserPatchIn:
        nulls = [name for name in _NOT_NULL if name in self.model_fields_set and getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> UserChanges:
        given: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        if self.roles is not None:
            given["roles"] = frozenset(Role(r) for r in self.roles)
        return UserChanges(**given)

    @property
    def ends_sessions(self) -> bool:
        return self.active is False or bool(self.model_fields_set & set(_ENDS_SESSIONS))
