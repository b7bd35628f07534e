"""The benchmark's reference route (SPEC §10): the same JWT check, the same body validation and the same total
computation as an order submit, storing nothing. Served only with CRM_BENCH_ROUTES=true."""

from __future__ import annotations

import threading

from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from crm_domain.errors import UnknownSku
from crm_domain.money import Money
from crm_domain.orders import OrderLine, check_lines
from crm_domain.products import Product
from crm_domain.records import PageRequest
from crm_domain.users import Permission
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.schemas.orders import LineOut, OrderIn


class PriceBook:
    """The catalogue loaded once into memory, so the reference route makes no store round trip per request."""

    def __init__(self) -> None:
        self._products: dict[str, Product] | None = None
        self._lock = threading.Lock()

    def products(self, crm: CrmDep, actor: ActorDep) -> dict[str, Product]:
        with self._lock:
            if self._products is None:
                loaded: dict[str, Product] = {}
                cursor = None
                while True:
                    page = crm.catalogue.list(actor, PageRequest(limit=200, cursor=cursor))
                    loaded.update({p.sku: p for p in page.items})
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                self._products = loaded
            return self._products


PRICES = PriceBook()


class ReferenceController(Controller):
    path = "/bench"
    tags = ["benchmark"]
    include_in_schema = False

    @post(
        "/reference",
        status_code=HTTP_200_OK,
        operation_id="benchReference",
        sync_to_thread=False,
        summary="Benchmark reference: JWT + body validation + totals, nothing stored",
    )
    def reference(self, crm: CrmDep, actor: ActorDep, data: JSONBody[OrderIn]) -> dict[str, object]:
        actor.require(Permission.ORDER_CREATE)
        command = data.command()
        check_lines(list(command.lines))
        products = PRICES.products(crm, actor)
        lines = []
        for request in command.lines:
            product = products.get(request.sku)
            if product is None:
                raise UnknownSku(request.sku)
            lines.append(OrderLine.priced(request, product))
        total = sum((line.total for line in lines), Money.zero(lines[0].unit_price.currency))
        return {"lines": [LineOut.of(line).model_dump() for line in lines], "total": total.decimal_string()}
