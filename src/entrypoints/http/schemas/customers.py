"""Customer shapes (SPEC §4 "customer in"): master data plus the credit terms kept on the credit account."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from crm_domain.customers import Customer, ErpSystem
from crm_domain.money import Money
from crm_domain.services.customers import CustomerChanges, CustomerView, NewCustomer
from entrypoints.http.schemas.common import (
    Currency,
    CurrencyOut,
    Days,
    DecimalOut,
    ExactBool,
    Id,
    In,
    MoneyOut,
    MoneyStr,
    Out,
    Pct,
    ShortText,
)

ErpName = Literal["sap", "gennext", "sandbox"]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Name = Annotated[ShortText, StringConstraints(min_length=1, max_length=200)]
Mobile = Annotated[str, StringConstraints(min_length=4, max_length=32)]
ErpCustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Reason = Annotated[ShortText, StringConstraints(min_length=1, max_length=200)]


class CustomerIn(In):
    code: Code
    name: Name
    mobile: Mobile = Field(description="E.164, or a national number of the default region (IN).")
    territory: ShortText = ""
    currency: Currency = "INR"
    erp_system: ErpName = "sandbox"
    erp_customer_id: ErpCustomerId | None = None
    credit_limit: MoneyStr = Field(description='The base credit limit, e.g. "100000.00".')
    assigned_rep_id: Id | None = None
    tolerance_pct: Pct = Field(default=Decimal(0), description="Submits pass up to limit × (1 + tolerance/100).")
    overdue_block_days: Days | None = Field(
        default=None, description="Hold submits while the ERP reports receivables overdue longer than this."
    )

    def command(self) -> NewCustomer:
        return NewCustomer(
            code=self.code,
            name=self.name,
            mobile=self.mobile,
            credit_limit=Money.of(self.credit_limit, self.currency),
            territory=self.territory,
            erp_system=self.erp_system,
            erp_customer_id=self.erp_customer_id,
            assigned_rep_id=self.assigned_rep_id,
            tolerance_pct=self.tolerance_pct,
            overdue_block_days=self.overdue_block_days,
        )


_MASTER = ("name", "mobile", "territory", "erp_system", "erp_customer_id", "assigned_rep_id", "active")
_CREDIT = ("credit_limit", "tolerance_pct", "overdue_block_days")
_NOT_NULL = ("name", "mobile", "territory", "erp_system", "active", "credit_limit", "tolerance_pct")


class CustomerPatchIn(In):
    """Only the fields present change. Master data needs `customer:write`; `credit_limit` needs
    `credit_limit:set` (admin); `tolerance_pct` and `overdue_block_days` need `credit_limit:approve`."""

    name: Name | None = None
    mobile: Mobile | None = None
    territory: ShortText | None = None
    erp_system: ErpName | None = None
    erp_customer_id: ErpCustomerId | None = None
    assigned_rep_id: Id | None = None
    active: ExactBool | None = None
    credit_limit: MoneyStr | None = Field(default=None, description="In the customer's currency.")
    tolerance_pct: Pct | None = None
    overdue_block_days: Days | None = Field(default=None, description="null removes the overdue block.")
    reason: Reason | None = Field(default=None, description="Kept in the credit history with credit changes.")

    @model_validator(mode="after")
    def _check(self) -> CustomerPatchIn:
        nulls = [name for name in _NOT_NULL if name in self.model_fields_set and getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        if "reason" in self.model_fields_set and not self.changes_credit:
            raise ValueError("reason goes with credit_limit, tolerance_pct or overdue_block_days")
        return self

    @property
    def changes_master(self) -> bool:
        return bool(self.model_fields_set & set(_MASTER))

    @property
    def changes_credit(self) -> bool:
        return bool(self.model_fields_set & set(_CREDIT))

    def master_changes(self) -> CustomerChanges:
        return CustomerChanges(**{name: getattr(self, name) for name in _MASTER if name in self.model_fields_set})

    @property
    def credit_reason(self) -> str:
        return self.reason or "changed with the customer's master data"


class CustomerSummaryOut(Out):
    """A customer's master data (the items of a list)."""

    id: str
    code: str
    name: str
    mobile: str
    territory: str
    currency: CurrencyOut
    erp_system: ErpSystem
    erp_customer_id: str | None
    assigned_rep_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerSummaryOut:
        return cls(**_master(customer))


class CustomerOut(CustomerSummaryOut):
    """Master data plus the credit terms; `updated_at` is the later of the two changes."""

    credit_limit: MoneyOut = Field(description="The base limit; the credit position has the effective one.")
    tolerance_pct: DecimalOut
    overdue_block_days: int | None

    @classmethod
    def of_view(cls, view: CustomerView) -> CustomerOut:
        account = view.account
        master = _master(view.customer)
        if account.updated_at is not None:
            master["updated_at"] = max(master["updated_at"], account.updated_at)
        return cls(
            **master,
            credit_limit=account.money(account.limit).decimal_string(),
            tolerance_pct=str(account.tolerance_pct),
            overdue_block_days=account.overdue_block_days,
        )


def _master(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "mobile": c.mobile,
        "territory": c.territory,
        "currency": c.currency,
        "erp_system": c.erp_system.value,
        "erp_customer_id": c.erp_customer_id,
        "assigned_rep_id": c.assigned_rep_id,
        "active": c.active,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }
