"""The product catalogue: read by everyone signed in, written by admins and by ERP sync (SPEC §2.4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from crm_domain.errors import DuplicateKey, EntityNotFound
from crm_domain.money import Money
from crm_domain.ports import UnitOfWork
from crm_domain.products import Product
from crm_domain.records import Page, PageRequest
from crm_domain.search import TextQuery
from crm_domain.services.context import UNSET, ServiceContext, given_fields
from crm_domain.text import text_validator
from crm_domain.users import Actor, Permission


@attrs.frozen(kw_only=True)
class NewProduct:
    sku: str
    name: str = attrs.field(validator=text_validator())
    unit_price: Money
    uom: str = "EA"
    tax_rate: Decimal = Decimal(0)
    erp_material_id: str | None = None
    min_order_qty: Decimal = Decimal(1)
    active: bool = True


@attrs.frozen(kw_only=True)
class ProductChanges:
    name: str = attrs.field(default=UNSET, validator=text_validator())
    uom: str = UNSET
    unit_price: Money = UNSET
    tax_rate: Decimal = UNSET
    erp_material_id: str | None = UNSET
    min_order_qty: Decimal = UNSET
    active: bool = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


class CatalogueService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def build(self, new: NewProduct) -> Product:
        """A validated product (raises `ValidationFailed`); nothing is stored."""
        return Product(
            sku=new.sku,
            name=new.name,
            uom=new.uom,
            unit_price=new.unit_price,
            tax_rate=new.tax_rate,
            active=new.active,
            erp_material_id=new.erp_material_id,
            min_order_qty=new.min_order_qty,
            updated_at=self._ctx.now(),
        )

    def create(self, actor: Actor, new: NewProduct) -> Product:
        actor.require(Permission.PRODUCT_WRITE)
        product = self.build(new)

        def step(uow: UnitOfWork) -> Product:
            if uow.products.get(product.sku) is not None:
                raise DuplicateKey("product", "sku", product.sku)
            uow.products.add(product)
            self._ctx.audit(uow, actor_id=actor.id, action="product.created", entity="product", entity_id=product.sku)
            return product

        return self._ctx.write(step)

    def update(self, actor: Actor, sku: str, changes: ProductChanges) -> Product:
        actor.require(Permission.PRODUCT_WRITE)

        def step(uow: UnitOfWork) -> Product:
            product = uow.products.get(sku)
            if product is None:
                raise EntityNotFound("product", sku)
            fields = changes.given()
            updated = Product(**{**attrs.asdict(product, recurse=False), **fields, "updated_at": self._ctx.now()})
            uow.products.save(updated)
            self._ctx.audit(
                uow, actor_id=actor.id, action="product.updated", entity="product", entity_id=sku, fields=sorted(fields)
            )
            return updated

        return self._ctx.write(step)

    def upsert_many(self, actor: Actor, products: list[Product]) -> int:
        """Insert or replace a batch by SKU (imports and ERP sync); idempotent."""
        actor.require(Permission.PRODUCT_WRITE)
        return self._ctx.write(lambda uow: uow.products.upsert_many(products))

    def get(self, actor: Actor, sku: str) -> Product:
        actor.require(Permission.PRODUCT_READ)

        def step(uow: UnitOfWork) -> Product:
            product = uow.products.get(sku)
            if product is None:
                raise EntityNotFound("product", sku)
            return product

        return self._ctx.read(step)

    def list(
        self,
        actor: Actor,
        page: PageRequest,
        *,
        active_only: bool = False,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Product]:
        actor.require(Permission.PRODUCT_READ)
        return self._ctx.read(
            lambda uow: uow.products.page(page, active_only=active_only, text=text, updated_since=updated_since)
        )
