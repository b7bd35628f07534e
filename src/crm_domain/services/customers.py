"""Customers (dealers): create with their credit account, read and update within scope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer, ErpSystem
from crm_domain.errors import DuplicateKey, EntityNotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.ports import UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.services.context import UNSET, ServiceContext, customer_in_scope, given_fields, scope_of
from crm_domain.users import Actor, Permission


@attrs.frozen(kw_only=True)
class NewCustomer:
    code: str
    name: str
    mobile: str
    credit_limit: Money
    territory: str = ""
    erp_system: ErpSystem | str = ErpSystem.SANDBOX
    erp_customer_id: str | None = None
    assigned_rep_id: str | None = None
    tolerance_pct: Decimal = Decimal(0)
    overdue_block_days: int | None = None


@attrs.frozen(kw_only=True)
class CustomerChanges:
    """Master data to change; credit terms change through `CreditService`."""

    name: str = UNSET
    mobile: str = UNSET
    territory: str = UNSET
    erp_system: ErpSystem | str = UNSET
    erp_customer_id: str | None = UNSET
    assigned_rep_id: str | None = UNSET
    active: bool = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


@attrs.frozen(kw_only=True)
class CustomerView:
    customer: Customer
    account: CreditAccount


class CustomerService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def create(self, actor: Actor, new: NewCustomer) -> CustomerView:
        actor.require(Permission.CUSTOMER_WRITE)
        return self._ctx.write(lambda uow: self.create_in(uow, actor, new))

    def create_in(self, uow: UnitOfWork, actor: Actor, new: NewCustomer) -> CustomerView:
        now = self._ctx.now()
        if uow.customers.get_by_code(new.code) is not None:
            raise DuplicateKey("customer", "code", new.code)
        self._check_rep(uow, new.assigned_rep_id)
        customer = Customer(
            id=self._ctx.ids.new_id(),
            code=new.code,
            name=new.name.strip(),
            mobile=self._ctx.mobiles.normalise(new.mobile),
            territory=new.territory,
            currency=new.credit_limit.currency,
            erp_system=new.erp_system,
            erp_customer_id=new.erp_customer_id,
            assigned_rep_id=new.assigned_rep_id,
            created_at=now,
            updated_at=now,
        )
        account = CreditAccount(
            customer_id=customer.id,
            currency=customer.currency,
            limit=new.credit_limit.minor,
            tolerance_pct=new.tolerance_pct,
            overdue_block_days=new.overdue_block_days,
            updated_at=now,
        )
        uow.customers.add(customer)
        uow.credit.add(account)
        self._ctx.audit(
            uow,
            actor_id=actor.id,
            action="customer.created",
            entity="customer",
            entity_id=customer.id,
            code=customer.code,
            credit_limit=new.credit_limit.decimal_string(),
        )
        return CustomerView(customer=customer, account=account)

    def update(self, actor: Actor, customer_id: str, changes: CustomerChanges) -> CustomerView:
        actor.require(Permission.CUSTOMER_WRITE)
        return self._ctx.write(lambda uow: self.update_in(uow, actor, customer_id, changes))

    def update_in(self, uow: UnitOfWork, actor: Actor, customer_id: str, changes: CustomerChanges) -> CustomerView:
        customer = customer_in_scope(uow, actor, customer_id)
        fields = changes.given()
        if "mobile" in fields:
            fields["mobile"] = self._ctx.mobiles.normalise(fields["mobile"])
        if "assigned_rep_id" in fields:
            self._check_rep(uow, fields["assigned_rep_id"])
        updated = Customer(**{**attrs.asdict(customer, recurse=False), **fields, "updated_at": self._ctx.now()})
        uow.customers.save(updated)
        self._ctx.audit(
            uow,
            actor_id=actor.id,
            action="customer.updated",
            entity="customer",
            entity_id=customer.id,
            fields=sorted(fields),
        )
        account = uow.credit.get(customer.id)
        assert account is not None
        return CustomerView(customer=updated, account=account)

    def _check_rep(self, uow: UnitOfWork, rep_id: str | None) -> None:
        if rep_id is not None and uow.users.get(rep_id) is None:
            raise ValidationFailed(f"assigned rep {rep_id!r} does not exist", field="assigned_rep_id")

    def get(self, actor: Actor, customer_id: str) -> CustomerView:
        actor.require(Permission.CUSTOMER_READ)

        def step(uow: UnitOfWork) -> CustomerView:
            customer = customer_in_scope(uow, actor, customer_id)
            account = uow.credit.get(customer.id)
            assert account is not None
            return CustomerView(customer=customer, account=account)

        return self._ctx.read(step)

    def get_by_code(self, actor: Actor, code: str) -> CustomerView:
        actor.require(Permission.CUSTOMER_READ)

        def step(uow: UnitOfWork) -> CustomerView:
            found = uow.customers.get_by_code(code)
            if found is None:
                raise EntityNotFound("customer", code)
            customer = customer_in_scope(uow, actor, found.id)
            account = uow.credit.get(customer.id)
            assert account is not None
            return CustomerView(customer=customer, account=account)

        return self._ctx.read(step)

    def list(self, actor: Actor, page: PageRequest) -> Page[Customer]:
        actor.require(Permission.CUSTOMER_READ)
        return self._ctx.read(lambda uow: uow.customers.page(page, scope_of(uow, actor)))
