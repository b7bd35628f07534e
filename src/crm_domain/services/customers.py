"""Customers (dealers): create with their credit account, read and update within scope, and upsert by code.

Upsert (`CustomerService.upsert`, `upsert_in`) is the one use case behind `crm customers import` and
`crm erp sync customers`: a customer as a source of master data states it (`CustomerRecord`), created or brought
up to date by its code in one unit of work, and said to be created, updated or unchanged.
- Fields left UNSET keep what the CRM has; a new customer takes the defaults (no territory, the sandbox ERP, no
  ERP id, no rep, active). A record without a mobile keeps the known one; a new customer needs one.
- A record `from_erp` comes from the ERP that serves the customer (its `erp_system`): a customer another ERP
  serves is refused, not moved.
- A customer's currency is fixed: a record in another currency is refused.
- Credit terms: see `_opening_terms` and `_terms_changes`, the one place that decides what a source's terms do
  to the account (a new customer without terms gets a zero limit: every submit holds until a credit controller
  sets one; a known customer's changes are recorded as `CreditService`'s direct changes are, and like them a
  change that raises credit is refused — `CreditRaiseNeedsApproval`, SPEC §2.3 credit governance: it is a
  credit-term change request approved by a second person; the record then changes nothing).
- A refused record writes nothing: the checks come before the first write.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer, ErpSystem
from crm_domain.errors import DuplicateKey, EntityNotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.ports import UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.search import TextQuery
from crm_domain.services.context import (
    UNSET,
    ServiceContext,
    account_of,
    customer_in_scope,
    given_fields,
    scope_of,
)
from crm_domain.services.credit import (
    CreditChange,
    CreditService,
    limit_change,
    overdue_block_change,
    tolerance_change,
)
from crm_domain.text import text_validator
from crm_domain.users import Actor, Permission


@attrs.frozen(kw_only=True)
class NewCustomer:
    code: str
    name: str = attrs.field(validator=text_validator())
    mobile: str
    credit_limit: Money
    territory: str = ""
    erp_system: ErpSystem | str = ErpSystem.SANDBOX
    erp_customer_id: str | None = None
    assigned_rep_id: str | None = None
    tolerance_pct: Decimal = Decimal(0)
    overdue_block_days: int | None = None
    active: bool = True


@attrs.frozen(kw_only=True)
class CreditTerms:
    """The credit terms a source states for a customer."""

    limit: Money
    tolerance_pct: Decimal = Decimal(0)
    overdue_block_days: int | None = None


@attrs.frozen(kw_only=True)
class CustomerRecord:
    """One customer as a source of master data states it, matched by `code` (see the module docstring).
    `terms` None leaves the credit terms to the CRM; `reason` goes to the limit history with a change of terms."""

    code: str
    name: str = attrs.field(validator=text_validator())  # from a file or an ERP as much as from a person
    currency: str
    mobile: str | None = None
    territory: str = attrs.field(default=UNSET, validator=text_validator())
    erp_system: ErpSystem | str = UNSET
    erp_customer_id: str | None = UNSET
    assigned_rep_id: str | None = UNSET
    active: bool = UNSET
    terms: CreditTerms | None = None
    from_erp: bool = False
    reason: str = ""


class Upserted(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@attrs.frozen(kw_only=True)
class UpsertResult:
    outcome: Upserted
    customer: Customer


_MASTER_FIELDS = ("territory", "erp_system", "erp_customer_id", "assigned_rep_id", "active")


@attrs.frozen(kw_only=True)
class CustomerChanges:
    """Master data to change; credit terms change through `CreditService`."""

    name: str = attrs.field(default=UNSET, validator=text_validator())
    mobile: str = UNSET
    territory: str = UNSET
    erp_system: ErpSystem | str = UNSET
    erp_customer_id: str | None = UNSET
    assigned_rep_id: str | None = UNSET
    active: bool = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


@attrs.frozen(kw_only=True)
class TermsPatch:
    """Credit terms a person changes with the customer's master data (`CustomerService.patch`): the fields given
    (not UNSET) change, each as `CreditService`'s direct change does (a raise is refused), for `reason`."""

    limit: Money = UNSET
    tolerance_pct: Decimal = UNSET
    overdue_block_days: int | None = UNSET
    reason: str = ""

    def changes(self, actor: Actor) -> list[CreditChange]:
        """The changes, each needing the permission its direct change needs (checked here, before any write)."""
        changes: list[CreditChange] = []
        if self.limit is not UNSET:
            actor.require(Permission.CREDIT_LIMIT_SET)
            changes.append(limit_change(self.limit, by=actor.id, reason=self.reason))
        if self.tolerance_pct is not UNSET:
            actor.require(Permission.CREDIT_LIMIT_APPROVE)
            changes.append(tolerance_change(str(self.tolerance_pct), by=actor.id, reason=self.reason))
        if self.overdue_block_days is not UNSET:
            actor.require(Permission.CREDIT_LIMIT_APPROVE)
            changes.append(overdue_block_change(self.overdue_block_days, by=actor.id, reason=self.reason))
        return changes


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
            active=new.active,
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
            erp=customer.erp_system.value,
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

    def patch(self, actor: Actor, customer_id: str, changes: CustomerChanges, terms: TermsPatch) -> CustomerView:
        """Master data and credit terms in one unit of work: every permission is checked first, and a refused
        change (a raise of credit: `CreditRaiseNeedsApproval`) leaves the master data unchanged too. Without
        credit terms it is `update` (customer:write, also for an empty change)."""
        credit_changes = terms.changes(actor)
        if changes.given() or not credit_changes:
            actor.require(Permission.CUSTOMER_WRITE)

        def step(uow: UnitOfWork) -> CustomerView:
            if changes.given() or not credit_changes:
                view = self.update_in(uow, actor, customer_id, changes)
            else:
                customer = customer_in_scope(uow, actor, customer_id)
                view = CustomerView(customer=customer, account=account_of(uow, customer_id))
            credit = CreditService(self._ctx)
            for change in credit_changes:
                credit.change_in(uow, view.account, change)
            return view

        return self._ctx.write(step)

    # --- upsert -------------------------------------------------------------------------------------------

    def upsert(self, actor: Actor, record: CustomerRecord) -> UpsertResult:
        """Create or update the customer with the record's code, in one unit of work (see the module docstring)."""
        return self._ctx.write(lambda uow: self.upsert_in(uow, actor, record))

    def upsert_in(self, uow: UnitOfWork, actor: Actor, record: CustomerRecord) -> UpsertResult:
        """`upsert` in the caller's unit of work (a batch of records in one)."""
        actor.require(Permission.CUSTOMER_WRITE)
        if record.terms is not None and record.terms.limit.currency != record.currency:
            raise ValidationFailed(f"the credit limit is in {record.terms.limit.currency}, not {record.currency}")
        if record.assigned_rep_id is not UNSET:
            self._check_rep(uow, record.assigned_rep_id)
        old = uow.customers.get_by_code(record.code)
        if old is None:
            if not record.mobile:
                raise ValidationFailed(f"new customer {record.code} has no mobile", field="mobile")
            view = self.create_in(uow, actor, _new_customer(record, record.mobile))
            return UpsertResult(outcome=Upserted.CREATED, customer=view.customer)
        return self._update_from(uow, actor, customer_in_scope(uow, actor, old.id), record)

    def _update_from(self, uow: UnitOfWork, actor: Actor, old: Customer, record: CustomerRecord) -> UpsertResult:
        erp = old.erp_system.value
        if record.from_erp and record.erp_system is not UNSET and str(record.erp_system) != erp:
            raise ValidationFailed(f"customer {old.code} is served by {erp}, not {record.erp_system}", field="erp")
        if old.currency != record.currency:
            raise ValidationFailed(f"customer {old.code} buys in {old.currency}, not {record.currency}")
        fields: dict[str, Any] = {
            "name": record.name.strip(),
            "mobile": self._ctx.mobiles.normalise(record.mobile) if record.mobile else old.mobile,
            **{f: getattr(record, f) for f in _MASTER_FIELDS if getattr(record, f) is not UNSET},
        }
        updated = Customer(**{**attrs.asdict(old, recurse=False), **fields, "updated_at": self._ctx.now()})
        changed = sorted(f for f in fields if getattr(old, f) != getattr(updated, f))
        account = account_of(uow, old.id)
        terms = _terms_changes(actor, account, record.terms, record.reason)
        if not changed and not terms:
            return UpsertResult(outcome=Upserted.UNCHANGED, customer=old)
        if changed:
            uow.customers.save(updated)
            self._ctx.audit(
                uow,
                actor_id=actor.id,
                action="customer.updated",
                entity="customer",
                entity_id=old.id,
                fields=changed,
                erp=erp,
            )
        credit = CreditService(self._ctx)
        for change in terms:
            credit.change_in(uow, account, change)
        return UpsertResult(outcome=Upserted.UPDATED, customer=updated if changed else old)

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

    def list(
        self,
        actor: Actor,
        page: PageRequest,
        *,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Customer]:
        """Customers in the actor's scope; `text` and `updated_since` narrow the list (search, delta sync)."""
        actor.require(Permission.CUSTOMER_READ)
        return self._ctx.read(
            lambda uow: uow.customers.page(page, scope_of(uow, actor), text=text, updated_since=updated_since)
        )


# --- the credit terms of an upsert: the one place that decides what a source's terms do to an account -----------


def _opening_terms(record: CustomerRecord) -> CreditTerms:
    """A new customer's terms: the record's, or a zero limit (every submit holds until a credit controller sets
    one)."""
    return record.terms or CreditTerms(limit=Money.zero(record.currency))


def _terms_changes(actor: Actor, account: CreditAccount, terms: CreditTerms | None, reason: str) -> list[CreditChange]:
    """The changes a known customer's account takes from the record's terms (none without terms), each needing
    the permission its direct change in `CreditService` needs, made by `actor` for `reason`."""
    if terms is None:
        return []
    changes: list[CreditChange] = []
    if terms.limit.minor != account.limit:
        actor.require(Permission.CREDIT_LIMIT_SET)
        changes.append(limit_change(terms.limit, by=actor.id, reason=reason))
    if terms.tolerance_pct != account.tolerance_pct:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)
        changes.append(tolerance_change(str(terms.tolerance_pct), by=actor.id, reason=reason))
    if terms.overdue_block_days != account.overdue_block_days:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)
        changes.append(overdue_block_change(terms.overdue_block_days, by=actor.id, reason=reason))
    return changes


def _new_customer(record: CustomerRecord, mobile: str) -> NewCustomer:
    terms = _opening_terms(record)

    def given(name: str, default: Any) -> Any:
        value = getattr(record, name)
        return default if value is UNSET else value

    return NewCustomer(
        code=record.code,
        name=record.name,
        mobile=mobile,
        credit_limit=terms.limit,
        territory=given("territory", ""),
        erp_system=given("erp_system", ErpSystem.SANDBOX),
        erp_customer_id=given("erp_customer_id", None),
        assigned_rep_id=given("assigned_rep_id", None),
        tolerance_pct=terms.tolerance_pct,
        overdue_block_days=terms.overdue_block_days,
        active=given("active", True),
    )
