"""Users, roles and the one table of who may do what (SPEC §2.2)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Final

import attrs

from crm_domain.errors import PermissionDenied, ValidationFailed

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    SALES_REP = "sales_rep"
    DEALER = "dealer"
    CALL_CENTER_AGENT = "call_center_agent"
    SALES_MANAGER = "sales_manager"
    CREDIT_CONTROLLER = "credit_controller"
    ADMIN = "admin"


class Permission(StrEnum):
    ORDER_CREATE = "order:create"
    ORDER_SUBMIT = "order:submit"
    ORDER_CANCEL = "order:cancel"
    ORDER_RELEASE = "order:release"
    ORDER_READ = "order:read"
    CUSTOMER_READ = "customer:read"
    CUSTOMER_WRITE = "customer:write"
    CREDIT_READ = "credit:read"
    CREDIT_LIMIT_REQUEST = "credit_limit:request"
    CREDIT_LIMIT_APPROVE = "credit_limit:approve"
    TARGET_WRITE = "target:write"
    TARGET_READ = "target:read"
    PERFORMANCE_READ = "performance:read"
    CREDIT_LIMIT_SET = "credit_limit:set"  # change a limit directly, without a request (admin only)
    REPORT_READ = "report:read"
    USER_READ = "user:read"
    USER_MANAGE = "user:manage"
    PRODUCT_READ = "product:read"
    PRODUCT_WRITE = "product:write"
    ERP_SYNC = "erp:sync"
    OUTBOX_MANAGE = "outbox:manage"
    INTERACTION_READ = "interaction:read"  # the call log (SPEC §2.8), within the customer's scope
    INTERACTION_LOG = "interaction:log"


P = Permission
_ORDERING: Final = frozenset({P.ORDER_CREATE, P.ORDER_SUBMIT, P.ORDER_CANCEL, P.ORDER_READ})
_READING: Final = frozenset({P.CUSTOMER_READ, P.CREDIT_READ, P.PRODUCT_READ})
#: The call log: the people who phone dealers read and write it; a dealer's own staff do not see it.
_CALLS: Final = frozenset({P.INTERACTION_READ, P.INTERACTION_LOG})

#: The single place that says which role may do what. Scope (which customers) is separate: see scope.py.
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.SALES_REP: _ORDERING | _READING | _CALLS | {P.TARGET_READ, P.PERFORMANCE_READ, P.REPORT_READ},
    Role.DEALER: _ORDERING | _READING,
    Role.CALL_CENTER_AGENT: _ORDERING | _READING | _CALLS,
    Role.SALES_MANAGER: _ORDERING
    | _READING
    | {
        P.CREDIT_LIMIT_REQUEST,
        P.TARGET_WRITE,
        P.TARGET_READ,
        P.PERFORMANCE_READ,
        P.REPORT_READ,
        P.USER_READ,
        P.INTERACTION_READ,
    },
    Role.CREDIT_CONTROLLER: _READING
    | {
        P.INTERACTION_READ,
        P.ORDER_READ,
        P.ORDER_RELEASE,
        P.ORDER_CANCEL,
        P.CREDIT_LIMIT_REQUEST,
        P.CREDIT_LIMIT_APPROVE,
        P.REPORT_READ,
    },
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: frozenset[Permission] = frozenset()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return granted


def check_mobile(mobile: str) -> str:
    """Check that a mobile number is already in E.164 form (normalising is the `MobileNormaliser` port's)."""
    if not isinstance(mobile, str) or not _E164.fullmatch(mobile):
        raise ValidationFailed(f"mobile {mobile!r} is not an E.164 number", field="mobile")
    return mobile


def check_email(email: str | None) -> str | None:
    if email is not None and not _EMAIL.match(email):
        raise ValidationFailed(f"email {email!r} is not an e-mail address", field="email")
    return email


def _roles(value: object) -> frozenset[Role]:
    if isinstance(value, str):
        raise ValidationFailed("roles must be a list", field="roles")
    try:
        roles = frozenset(Role(r) for r in value)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"unknown role in {value!r}", field="roles") from exc
    if not roles:
        raise ValidationFailed("a user needs at least one role", field="roles")
    return roles


@attrs.define(kw_only=True)
class User:
    """A person who signs in. `customer_id` is set for dealer users only; `manager_id` builds the tree."""

    id: str
    mobile: str = attrs.field(converter=check_mobile)
    name: str
    roles: frozenset[Role] = attrs.field(converter=_roles)
    email: str | None = attrs.field(default=None, converter=check_email)
    manager_id: str | None = None
    territory: str | None = None
    customer_id: str | None = None
    active: bool = True
    created_at: datetime
    updated_at: datetime

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationFailed("name must not be empty", field="name")
        if Role.DEALER in self.roles and not self.customer_id:
            raise ValidationFailed("a dealer user needs a customer_id", field="customer_id")
        if Role.DEALER not in self.roles and self.customer_id:
            raise ValidationFailed("only dealer users belong to a customer", field="customer_id")
        if self.manager_id == self.id:
            raise ValidationFailed("a user cannot be their own manager", field="manager_id")

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def actor(self) -> Actor:
        return Actor(id=self.id, roles=self.roles, customer_id=self.customer_id, name=self.name)


@attrs.frozen(kw_only=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (worker, ERP events)."""

    id: str
    roles: frozenset[Role]
    customer_id: str | None = None
    name: str = ""

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(permission.value)

    def has_role(self, role: Role) -> bool:
        return role in self.roles


#: The actor recorded for automatic steps: hold re-evaluation, ERP events, the outbox worker.
SYSTEM = Actor(id="system", roles=frozenset({Role.ADMIN}), name="system")
