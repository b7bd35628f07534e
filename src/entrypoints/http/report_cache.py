"""Sales reports cached in the response cache (Redis in production, files or memory otherwise), SPEC §2.8.

The key is the actor (id and roles: their scope), every parameter of the report and the aggregates' version
(`ReportService.version`, which changes in the same commit as any bucket): a new order shows at once, and a
repeated read costs one small query. Entries also expire after `TTL` seconds, which bounds how long a change of
scope that moves no bucket (a rep moved to another manager, a dealer to another rep) can go unseen. The answer is
stored as JSON, never pickled. Credit exposure and holds are not cached: they move with credit accounts and the
clock, which the version does not follow.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from anyio import to_thread
from litestar import Request

from crm_domain.app import Crm
from crm_domain.reports import SalesFilter, SalesReport, SalesRow
from crm_domain.sales import SalesFigures, milli
from crm_domain.users import Actor, Permission

TTL = 60


def _key(actor: Actor, flt: SalesFilter, version: str) -> str:
    def items(values: frozenset[Any] | None) -> list[str] | None:
        return None if values is None else sorted(str(v) for v in values)

    parts = {
        "actor": actor.id,
        "roles": sorted(r.value for r in actor.roles),
        "customer": actor.customer_id,
        "start": flt.start.isoformat(),
        "end": flt.end.isoformat(),
        "group": flt.group_by.value,
        "statuses": items(flt.statuses),
        "reps": items(flt.rep_ids),
        "customers": items(flt.customer_ids),
        "skus": items(flt.skus),
        "territories": items(flt.territories),
        "version": version,
    }
    return "report:sales:" + hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _row(row: SalesRow) -> list[Any]:
    return [row.key, row.label, row.currency, row.orders, str(row.quantity), row.net.minor, row.tax.minor,
            row.total.minor]  # fmt: skip


def _unrow(cells: list[Any]) -> SalesRow:
    key, label, currency, orders, quantity, net, tax, total = cells
    figures = SalesFigures(orders=orders, quantity=milli(Decimal(quantity)), net=net, tax=tax, total=total)
    return SalesRow.of(key, label, currency, figures)


def encode(report: SalesReport) -> bytes:
    return json.dumps({"rows": [_row(r) for r in report.rows], "totals": [_row(r) for r in report.totals]}).encode()


def decode(raw: bytes, flt: SalesFilter) -> SalesReport:
    body = json.loads(raw)
    return SalesReport(filter=flt, rows=[_unrow(c) for c in body["rows"]], totals=[_unrow(c) for c in body["totals"]])


async def cached_sales(request: Request[Any, Any, Any], crm: Crm, actor: Actor, flt: SalesFilter) -> SalesReport:
    """The sales report from the cache when the aggregates have not changed since it was computed."""
    actor.require(Permission.REPORT_READ)
    store = request.app.response_cache_config.get_store_from_app(request.app)
    version = await to_thread.run_sync(crm.reports.version)
    key = _key(actor, flt, version)
    raw = await store.get(key)
    if raw is not None:
        return decode(raw, flt)
    report = await to_thread.run_sync(crm.reports.sales, actor, flt)
    await store.set(key, encode(report), expires_in=TTL)
    return report
