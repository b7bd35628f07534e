"""Product shapes (SPEC §4): `{sku, name, uom, unit_price:"420.00", currency, tax_rate:"18.00", …}`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from crm_domain.money import Money
from crm_domain.products import Product
from crm_domain.services.catalogue import NewProduct, ProductChanges
from entrypoints.http.schemas.common import (
    Currency,
    CurrencyOut,
    DecimalOut,
    In,
    MoneyOut,
    MoneyStr,
    Out,
    PlainDecimal,
    RateStr,
    ShortText,
)

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")]
Uom = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_.-]+$")]
ErpMaterialId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Quantity = Annotated[PlainDecimal, Field(description="Positive, at most 3 places.")]
Name = Annotated[ShortText, StringConstraints(min_length=1)]


def _a_bool(value: object) -> object:
    # Litestar's pydantic plugin validates with strict=False, which overrides `In`'s strict config: without
    # this, "yes", "on" or 1 would pass as true.
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


Flag = Annotated[bool, BeforeValidator(_a_bool)]


class ProductIn(In):
    sku: Sku
    name: Name
    uom: Uom = "EA"
    unit_price: MoneyStr
    currency: Currency
    tax_rate: RateStr = "0"
    erp_material_id: ErpMaterialId | None = None
    min_order_qty: Quantity = Decimal(1)
    active: Flag = True

    def command(self) -> NewProduct:
        return NewProduct(
            sku=self.sku,
            name=self.name,
            uom=self.uom,
            unit_price=Money.of(self.unit_price, self.currency),
            tax_rate=Decimal(self.tax_rate),
            erp_material_id=self.erp_material_id,
            min_order_qty=self.min_order_qty,
            active=self.active,
        )


class ProductPatchIn(In):
    """Only the fields sent change; `unit_price` and `currency` travel together."""

    name: Name | None = None
    uom: Uom | None = None
    unit_price: MoneyStr | None = None
    currency: Currency | None = None
    tax_rate: RateStr | None = None
    erp_material_id: ErpMaterialId | None = Field(default=None, description="null clears it.")
    min_order_qty: Quantity | None = None
    active: Flag | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        sent = self.model_fields_set
        if not sent:
            raise ValueError("send at least one field to change")
        if ("unit_price" in sent) != ("currency" in sent):
            raise ValueError("unit_price and currency are sent together")
        nullable = {"erp_material_id"}
        if nulls := sorted(f for f in sent - nullable if getattr(self, f) is None):
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> ProductChanges:
        sent = self.model_fields_set
        given: dict[str, Any] = {f: getattr(self, f) for f in sent - {"unit_price", "currency", "tax_rate"}}
        if "unit_price" in sent and self.unit_price is not None and self.currency is not None:
            given["unit_price"] = Money.of(self.unit_price, self.currency)
        if self.tax_rate is not None:
            given["tax_rate"] = Decimal(self.tax_rate)
        return ProductChanges(**given)


class ProductOut(Out):
    id: str = Field(description="The SKU.")
    sku: str
    name: str
    uom: str
    unit_price: MoneyOut
    currency: CurrencyOut
    tax_rate: DecimalOut
    active: bool
    erp_material_id: str | None
    min_order_qty: DecimalOut
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(
            id=product.sku,
            sku=product.sku,
            name=product.name,
            uom=product.uom,
            unit_price=product.unit_price.decimal_string(),
            currency=product.currency,
            tax_rate=str(product.tax_rate.quantize(Decimal("0.01"))),
            active=product.active,
            erp_material_id=product.erp_material_id,
            min_order_qty=str(product.min_order_qty),
            updated_at=product.updated_at,
        )
