"""The catalogue (SPEC §2.4)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import attrs

from crm_domain.decimals import canonical, decimal_of
from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.text import check_text

_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")
MAX_QUANTITY = Decimal(1_000_000)


def check_sku(sku: str) -> str:
    if not isinstance(sku, str) or not _SKU.fullmatch(sku):
        raise ValidationFailed(f"sku {sku!r} must be 1–64 letters, digits, '.', '_', '/' or '-'", field="sku")
    return sku


def check_rate(value: Decimal | int | str, field: str = "tax_rate") -> Decimal:
    """A percentage between 0 and 100 with at most two decimal places."""
    rate = decimal_of(value, field)
    if rate < 0 or rate > 100 or rate.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationFailed(f"{field} must be between 0 and 100 with at most two places", field=field)
    return rate.copy_abs() if rate.is_zero() else rate  # as written ("18.00" stays), never "-0"


def check_quantity(value: Decimal | int | str, field: str = "quantity") -> Decimal:
    """A positive quantity with at most three decimal places, at most 1,000,000."""
    quantity = decimal_of(value, field)
    if quantity <= 0:
        raise ValidationFailed(f"{field} must be positive, got {value}", field=field)
    if quantity > MAX_QUANTITY:
        raise ValidationFailed(f"{field} must be at most 1000000, got {value}", field=field)
    if quantity.as_tuple().exponent < -3 and quantity != quantity.quantize(Decimal("0.001")):  # type: ignore[operator]
        raise ValidationFailed(f"{field} has more than three decimal places: {value}", field=field)
    return canonical(quantity)


def _min_order_qty(value: Decimal | int | str) -> Decimal:
    return check_quantity(value, "min_order_qty")


@attrs.frozen(kw_only=True)
class Product:
    sku: str = attrs.field(converter=check_sku)
    name: str
    uom: str = "EA"
    unit_price: Money
    tax_rate: Decimal = attrs.field(default=Decimal(0), converter=check_rate)
    active: bool = True
    erp_material_id: str | None = None
    min_order_qty: Decimal = attrs.field(default=Decimal(1), converter=_min_order_qty)
    updated_at: datetime

    def __attrs_post_init__(self) -> None:
        check_text(self.name, "name")  # from the ERP or a file as much as from a person (SPEC §5)
        if not self.name.strip():
            raise ValidationFailed("name must not be empty", field="name")
        if self.unit_price.is_negative():
            raise ValidationFailed("unit_price must not be negative", field="unit_price")

    @property
    def currency(self) -> str:
        return self.unit_price.currency
