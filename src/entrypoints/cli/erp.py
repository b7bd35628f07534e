"""`crm erp sync …` (batch synchronisation from an ERP) and `crm erp sandbox …` (playing the sandbox ERP's part).

Sync is resumable: after every batch the cursor of the last finished one is kept per (erp, kind) in
DATA_DIR/erp-sync-state.json, so a run that is interrupted (Ctrl-C, the ERP going away) continues there when
started again. A run that finishes remembers when it started; the next run without `--since` asks only for what
changed since then (minus a five-minute overlap: upserts are idempotent, a missed change is not). `--full`
ignores what was remembered. Balances resume by customer page; order-status polling simply starts over (it is
idempotent and cheap to repeat).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crm_domain.erp import ErpChanges
from crm_domain.errors import ConcurrentUpdate, DomainError, UpstreamUnavailable, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.ports import ErpGateway
from crm_domain.services.erp_batch import SyncTally
from crm_domain.services.erp_events import BalanceReport, EventOutcome, EventResult, OrderStatusReport
from entrypoints.catalogue_cache import catalogue_changed
from entrypoints.cli.context import OPERATOR, container, err, out
from entrypoints.ports import SandboxErpDriver

app = typer.Typer(help="Synchronise with an ERP, and drive the built-in sandbox ERP.", no_args_is_help=True)
sandbox_app = typer.Typer(
    help="Drive the built-in sandbox ERP; each change is applied to the CRM at once, as its webhook would.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

STATE_FILE = "erp-sync-state.json"
OVERLAP = timedelta(minutes=5)
MAX_FAILURES_SHOWN = 50
LIST_PAGE = 200  # the store's largest page


class Kind(StrEnum):
    CUSTOMERS = "customers"
    PRODUCTS = "products"
    BALANCES = "balances"
    ORDER_STATUS = "order-status"


class ErpName(StrEnum):
    SAP = "sap"
    GENNEXT = "gennext"
    SANDBOX = "sandbox"


# --- resumable state ----------------------------------------------------------------------------------------


@attrs.define
class SyncState:
    """The per-(erp, kind) progress file: `cursor` and `since` of an unfinished run, `completed_from` of the last
    finished one. Written atomically (a temporary file renamed over it)."""

    path: Path

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValidationFailed(f"{self.path} is not readable sync state ({exc}); delete it to start over") from exc
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any]:
        entry = self.load().get(key)
        return entry if isinstance(entry, dict) else {}

    def put(self, key: str, entry: dict[str, Any]) -> None:
        data = self.load()
        data[key] = entry
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # in the data dir: owner only
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data, indent=2, sort_keys=True))
        temporary.replace(self.path)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or date-time", param_hint="--since") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@attrs.define
class Run:
    """Where a sync starts: the `since` asked for and the cursor to continue after."""

    key: str
    state: SyncState
    since: datetime | None
    cursor: str | None
    started: datetime

    @classmethod
    def open(cls, state: SyncState, erp: str, kind: Kind, since: str | None, full: bool, now: datetime) -> Run:
        key = f"{erp}:{kind.value}"
        entry = {} if full else state.get(key)
        asked = _since(since)
        if entry.get("cursor") and (since is None or entry.get("since") == (asked and asked.isoformat())):
            saved = entry.get("since")
            resumed_since = datetime.fromisoformat(saved) if saved else None
            err.print(f"resuming {key} after cursor {entry['cursor']}", markup=False)
            return cls(key, state, resumed_since, str(entry["cursor"]), now)
        if asked is None and entry.get("completed_from"):
            asked = datetime.fromisoformat(entry["completed_from"]) - OVERLAP
        return cls(key, state, asked, None, now)

    def advance(self, cursor: str | None) -> None:
        """Record a finished batch: continue after `cursor`; None means the run is complete."""
        self.cursor = cursor
        if cursor is None:
            self.state.put(self.key, {"completed_from": self.started.isoformat()})
        else:
            since = None if self.since is None else self.since.isoformat()
            self.state.put(self.key, {"cursor": cursor, "since": since, "started": self.started.isoformat()})


# --- sync ------------------------------------------------------------------------------------------------------


@app.command("sync")
def sync(
    kind: Annotated[Kind, typer.Argument(help="What to synchronise.")],
    erp: Annotated[ErpName, typer.Option("--erp", help="The ERP to read from.")] = ErpName.SANDBOX,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE-TIME", help="Read only what changed at or after this ISO 8601 date or date-time."
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=5000, help="How many items each batch holds.")] = 500,
    full: Annotated[bool, typer.Option("--full", help="Ignore the remembered progress and start over.")] = False,
) -> None:
    """Synchronise customers or products from an ERP, or apply its balances or order statuses.

    Idempotent upserts, resumable; prints created/updated/unchanged/failed and exits 1 if anything failed."""
    c = container()
    gateway = c.erp.for_system(erp.value)
    run = Run.open(SyncState(c.settings.data_dir / STATE_FILE), erp.value, kind, since, full, c.crm.ctx.now())
    tally = SyncTally()
    steps: dict[Kind, Callable[[ErpGateway, Run, int, SyncTally, Callable[[int], None]], None]] = {
        Kind.PRODUCTS: _products,
        Kind.CUSTOMERS: _customers,
        Kind.BALANCES: _balances,
        Kind.ORDER_STATUS: _order_status,
    }
    with Progress(
        SpinnerColumn(),
        TextColumn(f"syncing {kind.value} from {erp.value}"),
        TextColumn("{task.completed} done"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(kind.value, total=None)
        try:
            steps[kind](gateway, run, batch, tally, lambda n: progress.advance(task, n))
        except (KeyboardInterrupt, UpstreamUnavailable, ConcurrentUpdate) as exc:
            progress.stop()
            _summary(kind, erp.value, tally)
            where = f"after cursor {run.cursor}" if run.cursor else "from the start"
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            err.print(f"error: sync stopped ({reason}); run it again to continue {where}", markup=False)
            raise typer.Exit(1) from None
    raise typer.Exit(_summary(kind, erp.value, tally))


def _summary(kind: Kind, erp: str, tally: SyncTally) -> int:
    out.print(
        f"synced {kind.value} from {erp}: {tally.created} created, {tally.updated} updated, "
        f"{tally.unchanged} unchanged, {tally.failed} failed"
    )
    for key, reason in tally.failures[:MAX_FAILURES_SHOWN]:
        err.print(f"{key}: {reason}", markup=False)
    if tally.failed > MAX_FAILURES_SHOWN:
        err.print(f"… and {tally.failed - MAX_FAILURES_SHOWN} more")
    return 1 if tally.failed else 0


def _pages(
    fetch: Callable[[datetime | None, str | None, int], ErpChanges[Any]],
    apply: Callable[[list[Any]], SyncTally],
    run: Run,
    batch: int,
    tally: SyncTally,
    advance: Callable[[int], None],
) -> None:
    while True:
        page = fetch(run.since, run.cursor, batch)
        if page.items:
            tally.add(apply(list(page.items)))
            advance(len(page.items))
        run.advance(page.next_cursor)
        if page.next_cursor is None:
            return


def _products(gateway: ErpGateway, run: Run, batch: int, tally: SyncTally, advance: Callable[[int], None]) -> None:
    try:
        _pages(gateway.products_changed, container().crm.erp_batch.products, run, batch, tally, advance)
    finally:
        if tally.created or tally.updated:
            catalogue_changed(container())  # the API's cached catalogue answers are stale now


def _customers(gateway: ErpGateway, run: Run, batch: int, tally: SyncTally, advance: Callable[[int], None]) -> None:
    crm = container().crm
    _pages(
        gateway.customers_changed,
        lambda items: crm.erp_batch.customers(gateway.name, items),
        run,
        batch,
        tally,
        advance,
    )


def _count(tally: SyncTally, key: str, apply: Callable[[], EventResult]) -> None:
    try:
        result = apply()
    except (UpstreamUnavailable, ConcurrentUpdate):
        raise
    except DomainError as exc:
        tally.failures.append((key, str(exc)))
        return
    if result.outcome is EventOutcome.APPLIED:
        tally.updated += 1
    else:
        tally.unchanged += 1


def _balances(gateway: ErpGateway, run: Run, batch: int, tally: SyncTally, advance: Callable[[int], None]) -> None:
    crm = container().crm
    erp = gateway.name
    while True:
        codes, next_cursor = crm.erp_batch.customer_codes(erp, run.cursor, min(batch, LIST_PAGE))
        for code in codes:

            def fetch(code: str = code) -> EventResult:
                return crm.erp_events.apply_balance(erp, BalanceReport.of(gateway.customer_balance(code)))

            _count(tally, code, fetch)
            advance(1)
        run.advance(next_cursor)
        if next_cursor is None:
            return


def _order_status(gateway: ErpGateway, run: Run, batch: int, tally: SyncTally, advance: Callable[[int], None]) -> None:
    crm = container().crm
    erp = gateway.name
    polled: set[str] = set()
    for status in (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.INVOICED):
        cursor: str | None = None
        while True:
            orders, cursor = crm.erp_batch.orders_in_erp(erp, status, cursor, min(batch, LIST_PAGE))
            for order_id, erp_order_id in orders:
                if order_id in polled:
                    continue
                polled.add(order_id)

                def poll(order_id: str = order_id, erp_order_id: str = erp_order_id) -> EventResult:
                    report = OrderStatusReport.of(gateway.order_status(erp_order_id))
                    report = attrs.evolve(report, external_ref=report.external_ref or order_id)
                    return crm.erp_events.apply_order_status(erp, report)

                _count(tally, order_id, poll)
                advance(1)
            if cursor is None:
                break
    run.advance(None)


@app.command("commitments")
def commitments() -> None:
    """Report every open order of SAP customers to SAP Credit Management as a commitment, in batches.

    The first load, or a reconciliation. The worker reports each change afterwards (CRM_SAP_COMMITMENTS)."""
    from entrypoints.bootstrap import ConfigurationError, build_commitments

    try:
        handler = build_commitments(container())
    except ConfigurationError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if handler is None:
        err.print("error: set CRM_SAP_COMMITMENTS=true (and CRM_SAP_WSDL) to report commitments to SAP")
        raise typer.Exit(2)
    try:
        sent = handler.report_all()
    except UpstreamUnavailable as exc:
        err.print(f"error: SAP did not take the commitments ({exc}); run it again", markup=False)
        raise typer.Exit(1) from None
    out.print(f"reported {sent} open orders to SAP as credit commitments")


# --- the sandbox --------------------------------------------------------------------------------------------------


def _sandbox() -> SandboxErpDriver:
    sandbox = container().sandbox
    if sandbox is None:  # pragma: no cover - the composition root always builds it
        raise ValidationFailed("the sandbox ERP is not available")
    return sandbox


def _drive(ref: str, action: str) -> None:
    crm = container().crm
    order, customer = crm.erp_events.order_by_reference(ref)
    if customer.erp_system.value != "sandbox":
        raise ValidationFailed(f"order {order.number} goes to {customer.erp_system.value}, not the sandbox ERP")
    sandbox = _sandbox()
    erp_order_id = order.erp_order_id
    if erp_order_id is None:
        known = sandbox.find_by_external_ref(order.id)
        if known is None:
            raise ValidationFailed(
                f"order {order.number} is {order.status.value} and not in the sandbox ERP yet "
                "(`crm worker --once` sends submitted orders)"
            )
        erp_order_id = known.erp_order_id
    status = getattr(sandbox, action)(erp_order_id)
    result = crm.erp_events.apply_order_status("sandbox", OrderStatusReport.of(status))
    extra = f", released {len(result.released)} held order(s)" if result.released else ""
    invoice = f", invoice {status.invoice_number}" if status.invoice_number else ""
    out.print(
        f"{order.number}: {status.state.value} in the sandbox ERP ({erp_order_id}{invoice}); "
        f"the CRM order is {result.status.value if result.status else order.status.value}{extra}",
        markup=False,
    )


OrderRef = Annotated[str, typer.Argument(help="The order's number (for example SO-2026-000123) or id.")]


@sandbox_app.command("dispatch")
def dispatch(order: OrderRef) -> None:
    """Dispatch an order in the sandbox ERP and apply it to the CRM."""
    _drive(order, "dispatch")


@sandbox_app.command("invoice")
def invoice(order: OrderRef) -> None:
    """Invoice an order in the sandbox ERP (dispatch it first): its reservation becomes receivables."""
    _drive(order, "invoice")


@sandbox_app.command("deliver")
def deliver(order: OrderRef) -> None:
    """Deliver an invoiced order in the sandbox ERP and apply it to the CRM."""
    _drive(order, "deliver")


def _balance(code: str, change: Callable[[Any, str], Any]) -> None:
    crm = container().crm
    customer = crm.customers.get_by_code(OPERATOR, code).customer
    if customer.erp_system.value != "sandbox":
        raise ValidationFailed(f"customer {code} is served by {customer.erp_system.value}, not the sandbox ERP")
    balance = change(_sandbox(), customer.currency)
    result = crm.erp_events.apply_balance("sandbox", BalanceReport.of(balance))
    extra = f"; released {len(result.released)} held order(s)" if result.released else ""
    out.print(
        f"{code}: receivables {balance.receivables.decimal_string()} {balance.receivables.currency}, "
        f"overdue {balance.overdue_days} days{extra}",
        markup=False,
    )


@sandbox_app.command("pay")
def pay(
    customer_code: Annotated[str, typer.Argument(help="The customer's code, for example D0001.")],
    amount: Annotated[str, typer.Argument(help='Amount paid, e.g. "5000.00", in the customer\'s currency.')],
) -> None:
    """Record a payment in the sandbox ERP; the CRM takes the new receivables (held orders may be released)."""
    _balance(customer_code, lambda sandbox, currency: sandbox.pay(customer_code, Money.of(amount, currency)))


@sandbox_app.command("overdue")
def overdue(
    customer_code: Annotated[str, typer.Argument(help="The customer's code, for example D0001.")],
    days: Annotated[int, typer.Argument(min=0, max=36500, help="The age of the oldest overdue item, in days.")],
) -> None:
    """Set the customer's overdue days in the sandbox ERP and apply them to the CRM."""
    _balance(customer_code, lambda sandbox, _currency: sandbox.set_overdue(customer_code, days))
