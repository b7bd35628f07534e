"""Products on SQLite; `upsert_many` writes a whole ERP sync batch with one `executemany`."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from adapters.sqlite import codec
from adapters.sqlite.read_cache import VersionedRows
from adapters.sqlite.search import text_filter
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, keyset_page, marks
from crm_domain.products import Product
from crm_domain.records import Page, PageRequest
from crm_domain.search import TextQuery

_INSERT = f"INSERT INTO products ({codec.PRODUCT_COLUMNS}) VALUES ({marks(10)})"
_UPSERT = (
    _INSERT + " ON CONFLICT (sku) DO UPDATE SET name = excluded.name, uom = excluded.uom, "
    "unit_price = excluded.unit_price, currency = excluded.currency, tax_rate = excluded.tax_rate, "
    "active = excluded.active, erp_material_id = excluded.erp_material_id, "
    "min_order_qty = excluded.min_order_qty, updated_at = excluded.updated_at"
)


class SqliteProductRepository:
    """`cache`: the process's decoded products, for a read-only unit of work (see read_cache.py)."""

    def __init__(self, session: SqliteSession, cache: VersionedRows[str, Product] | None = None) -> None:
        self._s = session
        self._cache = cache

    def get(self, sku: str) -> Product | None:
        return self.get_many([sku]).get(sku)

    def get_many(self, skus: list[str]) -> dict[str, Product]:
        cache = self._cache
        cached = None if cache is None else cache.at(self._s.table_version("products"))
        if cache is None or cached is None:
            found = self._select(skus)
        else:
            found = {sku: product for sku in skus if (product := cached.get(sku)) is not None}
            if len(found) < len(skus):
                for sku, product in self._select([sku for sku in skus if sku not in found]).items():
                    found[sku] = product
                    cache.keep(cached, sku, product)
        return {sku: found[sku] for sku in skus if sku in found}

    def _select(self, skus: list[str]) -> dict[str, Product]:
        if len(skus) == 1:
            rows = self._s.execute(f"SELECT {codec.PRODUCT_COLUMNS} FROM products WHERE sku = ?", (skus[0],))
        else:
            rows = self._s.execute(
                f"SELECT {codec.PRODUCT_COLUMNS} FROM products WHERE sku IN (SELECT value FROM json_each(?))",
                (json_ids(skus),),
            )
        return {row["sku"]: codec.product_from(row) for row in rows}

    def add(self, product: Product) -> None:
        try:
            self._s.execute(_INSERT, codec.product_row(product))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"products.sku": ("product", "sku", product.sku)}) from exc

    def save(self, product: Product) -> None:
        self._s.execute(_UPSERT, codec.product_row(product))

    def upsert_many(self, products: list[Product]) -> int:
        self._s.executemany(_UPSERT, map(codec.product_row, products))
        return len(products)

    def page(
        self,
        page: PageRequest,
        *,
        active_only: bool = False,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Product]:
        where: list[str] = ["active = 1"] if active_only else []
        params: list[Any] = []
        if text is not None:
            sql, text_params = text_filter("product", "sku", text, by_mobile=False)
            where, params = [*where, sql], [*params, *text_params]
        if updated_since is not None:
            where, params = [*where, "updated_at >= ?"], [*params, codec.micros(updated_since)]
        return keyset_page(
            self._s,
            select=f"SELECT {codec.PRODUCT_COLUMNS} FROM products",
            where=where,
            params=params,
            key_columns=("sku",),
            key_types=(str,),
            descending=False,
            page=page,
            decode=codec.product_from,
        )
