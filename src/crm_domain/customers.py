"""Customers (dealers): master data. Their credit lives in `credit.CreditAccount`."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

import attrs

from crm_domain.errors import ValidationFailed
from crm_domain.money import check_currency
from crm_domain.users import check_mobile

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class ErpSystem(StrEnum):
    SAP = "sap"
    GENNEXT = "gennext"
    SANDBOX = "sandbox"


def check_code(code: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValidationFailed(
            f"code {code!r} must be 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="code",
        )
    return code


def _erp(value: str) -> ErpSystem:
    try:
        return ErpSystem(value)
    except ValueError as exc:
        raise ValidationFailed(
            f"erp_system must be one of sap, gennext, sandbox, got {value!r}", field="erp_system"
        ) from exc


def _non_empty(field: str):  # type: ignore[no-untyped-def]
    def check(_instance: object, _attribute: object, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(f"{field} must not be empty", field=field)

    return check


@attrs.frozen(kw_only=True)
class Customer:
    id: str
    code: str = attrs.field(converter=check_code)
    name: str = attrs.field(validator=_non_empty("name"))
    mobile: str = attrs.field(converter=check_mobile)
    territory: str = ""
    currency: str = attrs.field(default="INR", validator=lambda _i, _a, v: check_currency(v))
    erp_system: ErpSystem = attrs.field(default=ErpSystem.SANDBOX, converter=_erp)
    erp_customer_id: str | None = None
    assigned_rep_id: str | None = None
    active: bool = True
    created_at: datetime
    updated_at: datetime
