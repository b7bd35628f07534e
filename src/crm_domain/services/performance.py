"""Targets, performance figures with manager roll-ups, and the leaderboard (SPEC §2.6)."""

from __future__ import annotations

from datetime import datetime

from crm_domain.errors import EntityNotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.performance import (
    PerformanceRow,
    Target,
    achievement_pct,
    check_period,
    last_periods,
    periods_between,
    ranked,
)
from crm_domain.ports import UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.services.context import ServiceContext
from crm_domain.users import Actor, Permission, Role, User

_SELLING = frozenset({Role.SALES_REP, Role.SALES_MANAGER})


class PerformanceService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def set_target(self, actor: Actor, user_id: str, period: str, amount: Money) -> Target:
        """Managers set targets for their team; admins for anyone."""
        actor.require(Permission.TARGET_WRITE)
        check_period(period)

        def step(uow: UnitOfWork) -> Target:
            user = uow.users.get(user_id)
            visible = self._visible_ids_or_all(uow, actor)
            if user is None or (visible is not None and user_id not in visible):
                raise EntityNotFound("user", user_id)
            if amount.currency != self._ctx.config.default_currency:
                raise ValidationFailed(f"targets are set in {self._ctx.config.default_currency}", field="amount")
            target = Target(user_id=user_id, period=period, amount=amount, set_by=actor.id, updated_at=self._ctx.now())
            uow.targets.put(target)
            self._ctx.audit(
                uow,
                actor_id=actor.id,
                action="target.set",
                entity="user",
                entity_id=user_id,
                period=period,
                amount=amount.decimal_string(),
            )
            return target

        return self._ctx.write(step)

    def targets(self, actor: Actor, period: str, *, updated_since: datetime | None = None) -> list[Target]:
        """The month's targets of the users in scope; only those set at or after `updated_since` when given."""
        actor.require(Permission.TARGET_READ)
        check_period(period)
        return self._ctx.read(
            lambda uow: uow.targets.for_period(
                period, self._visible_ids_or_all(uow, actor), updated_since=updated_since
            )
        )

    def figures(self, actor: Actor, period: str, user_id: str | None = None) -> list[PerformanceRow]:
        """One row per user in scope (or just `user_id`); a manager's row rolls up everyone under them."""
        actor.require(Permission.PERFORMANCE_READ)
        check_period(period)

        def step(uow: UnitOfWork) -> list[PerformanceRow]:
            visible = self._visible_ids_or_all(uow, actor)
            if user_id is not None and visible is not None and user_id not in visible:
                raise EntityNotFound("user", user_id)
            users = self._users(uow, frozenset({user_id}) if user_id else visible)
            if user_id is None:
                users = [u for u in users if u.roles & _SELLING]
            if user_id is not None and not users:
                raise EntityNotFound("user", user_id)
            return [self._row(uow, user, period) for user in users]

        return self._ctx.read(step)

    def leaderboard(self, actor: Actor, period: str) -> list[PerformanceRow]:
        """Reps in scope ranked by achievement %, then achieved value."""
        actor.require(Permission.PERFORMANCE_READ)
        check_period(period)

        def step(uow: UnitOfWork) -> list[PerformanceRow]:
            users = [u for u in self._users(uow, self._visible_ids_or_all(uow, actor)) if Role.SALES_REP in u.roles]
            return ranked([self._row(uow, user, period, roll_up=False) for user in users])

        return self._ctx.read(step)

    def trend(self, actor: Actor, end: str, periods: int = 6, user_id: str | None = None) -> list[PerformanceRow]:
        """One row per month for the `periods` months up to `end` (default six): the user's figures (a manager's
        rolled up over everyone under them), oldest first; `user_id` defaults to the actor."""
        return self._per_period(actor, last_periods(end, periods), user_id or actor.id)

    def over_range(self, actor: Actor, start: str, end: str, user_id: str | None = None) -> list[PerformanceRow]:
        """Figures of every user in scope (or `user_id`) summed over the months `start`…`end`; the row's period
        reads `start..end`."""
        actor.require(Permission.PERFORMANCE_READ)
        months = periods_between(start, end)
        per_month = [self.figures(actor, month, user_id) for month in months]
        out = []
        for rows in zip(*per_month, strict=True):
            first = rows[0]
            currency = self._ctx.config.default_currency
            achieved = sum((r.achieved for r in rows), Money.zero(currency))
            targets = [r.target for r in rows if r.target is not None]
            target = sum(targets, Money.zero(currency)) if targets else None
            out.append(
                PerformanceRow(
                    user_id=first.user_id,
                    name=first.name,
                    period=f"{months[0]}..{months[-1]}",
                    target=target,
                    achieved=achieved,
                    achievement_pct=achievement_pct(achieved, target),
                    orders=sum(r.orders for r in rows),
                    team_size=first.team_size,
                )
            )
        return out

    def _per_period(self, actor: Actor, months: list[str], user_id: str) -> list[PerformanceRow]:
        actor.require(Permission.PERFORMANCE_READ)

        def step(uow: UnitOfWork) -> list[PerformanceRow]:
            visible = self._visible_ids_or_all(uow, actor)
            user = uow.users.get(user_id)
            if user is None or (visible is not None and user_id not in visible):
                raise EntityNotFound("user", user_id)
            return [self._row(uow, user, month) for month in months]

        return self._ctx.read(step)

    # --- figures ------------------------------------------------------------------------------------------

    def _row(self, uow: UnitOfWork, user: User, period: str, *, roll_up: bool = True) -> PerformanceRow:
        currency = self._ctx.config.default_currency
        team = uow.users.subordinate_ids(user.id) if roll_up and Role.SALES_MANAGER in user.roles else frozenset()
        members = team | {user.id}
        achieved = Money.zero(currency)
        orders = 0
        for figure in uow.performance.achieved(period, members):
            if figure.currency == currency:
                achieved += Money(figure.amount, currency)
                orders += figure.orders
        targets = uow.targets.for_period(period, frozenset({user.id}))
        target = targets[0].amount if targets else None
        if target is None and team:
            team_targets = uow.targets.for_period(period, members)
            if team_targets:
                target = sum((t.amount for t in team_targets), Money.zero(currency))
        return PerformanceRow(
            user_id=user.id,
            name=user.name,
            period=period,
            target=target,
            achieved=achieved,
            achievement_pct=achievement_pct(achieved, target),
            orders=orders,
            team_size=len(team),
        )

    def _visible_ids(self, uow: UnitOfWork, actor: Actor) -> frozenset[str]:
        return uow.users.subordinate_ids(actor.id) | {actor.id}

    def _visible_ids_or_all(self, uow: UnitOfWork, actor: Actor) -> frozenset[str] | None:
        if actor.has_role(Role.ADMIN) or actor.can(Permission.USER_MANAGE):
            return None
        return self._visible_ids(uow, actor)

    def _users(self, uow: UnitOfWork, ids: frozenset[str] | None) -> list[User]:
        users: list[User] = []
        cursor: str | None = None
        while True:
            page = uow.users.page(PageRequest(limit=200, cursor=cursor), ids=ids)
            users.extend(page.items)
            if page.next_cursor is None:
                return users
            cursor = page.next_cursor
