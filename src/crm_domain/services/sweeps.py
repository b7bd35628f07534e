"""Time-driven housekeeping the worker runs now and then: nothing here is needed for correctness at any one moment,
only to keep the store tidy and to act on changes that no event announces (a date passing)."""

from __future__ import annotations

import attrs

from crm_domain.ports import UnitOfWork
from crm_domain.services.auth import AuthService, RuntimePurge
from crm_domain.services.context import ServiceContext
from crm_domain.services.credit import CreditService

NOTHING_PURGED = RuntimePurge(otps=0, sessions=0, rate_records=0)


@attrs.frozen(kw_only=True)
class SweepReport:
    idempotency_purged: int
    holds_released: int
    #: Expired codes, ended sessions and spent rate-limit records deleted from the runtime stores.
    runtime_purged: RuntimePurge = NOTHING_PURGED


def run_sweeps(ctx: ServiceContext, auth: AuthService | None = None) -> SweepReport:
    """Every sweep; with `auth`, the runtime stores (codes, sessions, rate limits) are purged as well."""
    return SweepReport(
        idempotency_purged=purge_expired_idempotency(ctx),
        holds_released=reevaluate_lapsed_temporary_limits(ctx),
        runtime_purged=auth.purge_expired() if auth is not None else NOTHING_PURGED,
    )


def purge_expired_idempotency(ctx: ServiceContext) -> int:
    """Delete idempotency records past their expiry (they are ignored already; this frees the space)."""
    return ctx.write(lambda uow: uow.idempotency.purge_expired(ctx.now()))


def reevaluate_lapsed_temporary_limits(ctx: ServiceContext) -> int:
    """When a temporary limit lapses the base limit applies again; where that is higher, held orders may fit now.
    Re-evaluates the holds of those customers only; returns how many orders were released."""
    today = ctx.today()

    def lapsed_with_holds(uow: UnitOfWork) -> list[str]:
        return [
            account.customer_id
            for account in uow.credit.list_all()
            if account.temp_limit is not None
            and account.temp_limit_until is not None
            and account.temp_limit_until < today
            and uow.orders.held_for_customer(account.customer_id)
        ]

    credit = CreditService(ctx)
    return sum(len(credit.reevaluate(customer_id)) for customer_id in ctx.read(lapsed_with_holds))
