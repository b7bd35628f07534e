"""User management (SPEC §2.2): bootstrap, create, read within team, update and deactivate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from crm_domain.errors import DuplicateKey, EntityNotFound, ValidationFailed
from crm_domain.events import UserChanged
from crm_domain.ports import UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.services.context import UNSET, ServiceContext, given_fields
from crm_domain.text import text_validator
from crm_domain.users import Actor, Permission, Role, User


@attrs.frozen(kw_only=True)
class NewUser:
    mobile: str
    name: str = attrs.field(validator=text_validator())
    roles: frozenset[Role]
    email: str | None = None
    manager_id: str | None = None
    territory: str | None = None
    customer_id: str | None = None


@attrs.frozen(kw_only=True)
class UserChanges:
    """Fields to change; fields left at their default are not touched."""

    name: str = attrs.field(default=UNSET, validator=text_validator())
    mobile: str = UNSET
    email: str | None = UNSET
    roles: frozenset[Role] = UNSET
    manager_id: str | None = UNSET
    territory: str | None = UNSET
    customer_id: str | None = UNSET
    active: bool = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


class UserService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def create_admin(self, mobile: str, name: str) -> User:
        """Bootstrap an administrator (the CLI's `users create-admin`); no actor is needed."""
        new = NewUser(mobile=mobile, name=name, roles=frozenset({Role.ADMIN}))
        return self._ctx.write(lambda uow: self._create(uow, None, new))

    def create(self, actor: Actor, new: NewUser) -> User:
        actor.require(Permission.USER_MANAGE)
        return self._ctx.write(lambda uow: self._create(uow, actor, new))

    def _create(self, uow: UnitOfWork, actor: Actor | None, new: NewUser) -> User:
        now = self._ctx.now()
        mobile = self._ctx.mobiles.normalise(new.mobile)
        if uow.users.get_by_mobile(mobile) is not None:
            raise DuplicateKey("user", "mobile", mobile)
        user = User(
            id=self._ctx.ids.new_id(),
            mobile=mobile,
            name=new.name.strip(),
            roles=new.roles,
            email=new.email,
            manager_id=new.manager_id,
            territory=new.territory,
            customer_id=new.customer_id,
            created_at=now,
            updated_at=now,
        )
        self._check_links(uow, user)
        uow.users.add(user)
        by = actor.id if actor else "bootstrap"
        self._ctx.publish(uow, [UserChanged(occurred_at=now, user_id=user.id, active=True, changed_by=by)])
        self._ctx.audit(
            uow, actor_id=by, action="user.created", entity="user", entity_id=user.id, roles=sorted(user.roles)
        )
        return user

    def _check_links(self, uow: UnitOfWork, user: User) -> None:
        if user.manager_id is not None:
            manager = uow.users.get(user.manager_id)
            if manager is None:
                raise ValidationFailed(f"manager {user.manager_id!r} does not exist", field="manager_id")
            if user.manager_id in uow.users.subordinate_ids(user.id):
                raise ValidationFailed("the manager tree cannot have a cycle", field="manager_id")
        if user.customer_id is not None and uow.customers.get(user.customer_id) is None:
            raise ValidationFailed(f"customer {user.customer_id!r} does not exist", field="customer_id")

    def update(self, actor: Actor, user_id: str, changes: UserChanges) -> User:
        actor.require(Permission.USER_MANAGE)

        def step(uow: UnitOfWork) -> User:
            user = uow.users.get(user_id)
            if user is None:
                raise EntityNotFound("user", user_id)
            fields = changes.given()
            if "mobile" in fields:
                fields["mobile"] = self._ctx.mobiles.normalise(fields["mobile"])
                other = uow.users.get_by_mobile(fields["mobile"])
                if other is not None and other.id != user.id:
                    raise DuplicateKey("user", "mobile", fields["mobile"])
            if fields.get("active") is False and user.id == actor.id:
                raise ValidationFailed("you cannot deactivate yourself", field="active")
            now = self._ctx.now()
            updated = User(**{**attrs.asdict(user, recurse=False), **fields, "updated_at": now})
            self._check_links(uow, updated)
            uow.users.save(updated)
            self._ctx.publish(
                uow, [UserChanged(occurred_at=now, user_id=user.id, active=updated.active, changed_by=actor.id)]
            )
            self._ctx.audit(
                uow, actor_id=actor.id, action="user.updated", entity="user", entity_id=user.id, fields=sorted(fields)
            )
            return updated

        return self._ctx.write(step)

    def get(self, actor: Actor, user_id: str) -> User:
        def step(uow: UnitOfWork) -> User:
            user = uow.users.get(user_id)
            if user is None or not self._visible(uow, actor, user_id):
                raise EntityNotFound("user", user_id)
            return user

        return self._ctx.read(step)

    def get_by_mobile(self, mobile: str) -> User | None:
        """For sign-in: the user with this mobile, if any (inactive users included; callers check)."""
        normalised = self._ctx.mobiles.normalise(mobile)
        return self._ctx.read(lambda uow: uow.users.get_by_mobile(normalised))

    def find(self, user_id: str) -> User | None:
        """For the edges that authenticate: the user behind a session, without scope checks."""
        return self._ctx.read(lambda uow: uow.users.get(user_id))

    def list(self, actor: Actor, page: PageRequest, *, updated_since: datetime | None = None) -> Page[User]:
        def step(uow: UnitOfWork) -> Page[User]:
            if actor.can(Permission.USER_MANAGE):
                return uow.users.page(page, updated_since=updated_since)
            if actor.can(Permission.USER_READ):
                team = uow.users.subordinate_ids(actor.id) | {actor.id}
                return uow.users.page(page, ids=team, updated_since=updated_since)
            return uow.users.page(page, ids=frozenset({actor.id}), updated_since=updated_since)

        return self._ctx.read(step)

    def _visible(self, uow: UnitOfWork, actor: Actor, user_id: str) -> bool:
        if actor.id == user_id or actor.can(Permission.USER_MANAGE):
            return True
        return actor.can(Permission.USER_READ) and user_id in uow.users.subordinate_ids(actor.id)
