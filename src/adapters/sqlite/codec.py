"""Domain objects to SQLite rows and JSON documents, and back.

Money is integer minor units plus a currency (in documents a `[minor, currency]` pair); Decimals are strings,
so `Decimal("2.500")` comes back as written; datetimes are integer microseconds since the Unix epoch, UTC: exact,
they sort correctly, and they are read back as aware UTC datetimes equal to what was written; dates are ISO
strings. Enums are stored by value.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from adapters import epoch_micros
from crm_domain.credit import CreditAccount, LimitChange, Reservation, ReservationStage
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus, TermKind
from crm_domain.customers import Customer
from crm_domain.events import plain
from crm_domain.money import Money
from crm_domain.outbox import OutboxMessage, OutboxStatus
from crm_domain.performance import Target
from crm_domain.products import Product
from crm_domain.records import AuditEntry, IdempotencyRecord
from crm_domain.users import Role, User

Row = sqlite3.Row

# --- scalars ---------------------------------------------------------------------------------------------

#: Shared with the sandbox ERP's own file (adapters.epoch_micros); named here too for the store's modules.
EPOCH = epoch_micros.EPOCH
micros = epoch_micros.micros
instant = epoch_micros.instant


def micros_or_none(at: datetime | None) -> int | None:
    return None if at is None else micros(at)


def instant_or_none(value: int | None) -> datetime | None:
    return None if value is None else instant(value)


def money_pair(money: Money) -> list[Any]:
    return [money.minor, money.currency]


def money_of(pair: Sequence[Any]) -> Money:
    return Money(int(pair[0]), str(pair[1]))


def money_pair_or_none(money: Money | None) -> list[Any] | None:
    return None if money is None else money_pair(money)


def money_or_none(pair: Sequence[Any] | None) -> Money | None:
    return None if pair is None else money_of(pair)


def _plain(value: object) -> Any:
    """JSON fallback for free-form dicts (audit details): domain values as the domain writes them (`plain`)."""
    converted = plain(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} cannot be stored as JSON")
    return converted


def dumps(value: object) -> str:
    """Free-form values (audit details): Money, datetimes, Decimals, enums and sets as `_plain` writes them."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_plain)


_encode_json = msgspec.json.Encoder().encode


def dumps_plain(value: dict[str, Any] | list[Any]) -> str:
    """A document built of JSON types only (dict, list, str, int, float, bool, None), encoded in C: it reads back
    equal to what `dumps` writes (floats may be spelt differently, e.g. `1e16`). The codecs build such documents
    (orders, event payloads); `dumps` is for the rest."""
    return _encode_json(value).decode()


_decode_json = msgspec.json.Decoder().decode


def loads(text: str) -> Any:
    try:
        return _decode_json(text)
    except msgspec.DecodeError:
        return json.loads(text)  # NaN or Infinity, which `dumps` writes for such floats and msgspec refuses


# --- users and customers -----------------------------------------------------------------------------------

USER_COLUMNS = "id, mobile, name, roles, email, manager_id, territory, customer_id, active, created_at, updated_at"


def user_row(user: User) -> tuple[Any, ...]:
    return (
        user.id,
        user.mobile,
        user.name,
        dumps(sorted(role.value for role in user.roles)),
        user.email,
        user.manager_id,
        user.territory,
        user.customer_id,
        int(user.active),
        micros(user.created_at),
        micros(user.updated_at),
    )


def user_from(row: Row) -> User:
    return User(
        id=row["id"],
        mobile=row["mobile"],
        name=row["name"],
        roles=frozenset(Role(r) for r in loads(row["roles"])),
        email=row["email"],
        manager_id=row["manager_id"],
        territory=row["territory"],
        customer_id=row["customer_id"],
        active=bool(row["active"]),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )


CUSTOMER_COLUMNS = (
    "id, code, name, mobile, territory, currency, erp_system, erp_customer_id, assigned_rep_id, active, "
    "created_at, updated_at"
)


def customer_row(customer: Customer) -> tuple[Any, ...]:
    return (
        customer.id,
        customer.code,
        customer.name,
        customer.mobile,
        customer.territory,
        customer.currency,
        customer.erp_system.value,
        customer.erp_customer_id,
        customer.assigned_rep_id,
        int(customer.active),
        micros(customer.created_at),
        micros(customer.updated_at),
    )


def customer_from(row: Row) -> Customer:
    return Customer(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        mobile=row["mobile"],
        territory=row["territory"],
        currency=row["currency"],
        erp_system=row["erp_system"],
        erp_customer_id=row["erp_customer_id"],
        assigned_rep_id=row["assigned_rep_id"],
        active=bool(row["active"]),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )


# --- credit ------------------------------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    "customer_id",
    "currency",
    "credit_limit",
    "tolerance_pct",
    "temp_limit",
    "temp_limit_until",
    "overdue_block_days",
    "blocked",
    "block_reason",
    "receivables",
    "overdue_days",
    "version",
    "updated_at",
    "open_total",
    "dispatched_total",
    "balance_as_of",
)
ACCOUNT_COLUMNS = ", ".join(ACCOUNT_FIELDS)


def account_row(account: CreditAccount) -> dict[str, Any]:
    """The account's columns by name (`ACCOUNT_FIELDS`); the repository decides how the version moves."""
    return {
        "customer_id": account.customer_id,
        "currency": account.currency,
        "credit_limit": account.limit,
        "tolerance_pct": str(account.tolerance_pct),
        "temp_limit": account.temp_limit,
        "temp_limit_until": None if account.temp_limit_until is None else account.temp_limit_until.isoformat(),
        "overdue_block_days": account.overdue_block_days,
        "blocked": int(account.blocked),
        "block_reason": account.block_reason,
        "receivables": account.receivables,
        "overdue_days": account.overdue_days,
        "version": account.version,
        "updated_at": micros_or_none(account.updated_at),
        "open_total": account.open_total,
        "dispatched_total": account.dispatched_total,
        "balance_as_of": micros_or_none(account.balance_as_of),
    }


def account_from(row: Row, reservations: dict[str, Reservation], loaded: frozenset[str] | None = None) -> CreditAccount:
    """The account of `row` with `reservations`: all of them (`loaded` None), or those of the `loaded` orders.
    The running totals come from the row either way."""
    return CreditAccount(
        customer_id=row["customer_id"],
        currency=row["currency"],
        limit=row["credit_limit"],
        tolerance_pct=Decimal(row["tolerance_pct"]),
        temp_limit=row["temp_limit"],
        temp_limit_until=None if row["temp_limit_until"] is None else date.fromisoformat(row["temp_limit_until"]),
        overdue_block_days=row["overdue_block_days"],
        blocked=bool(row["blocked"]),
        block_reason=row["block_reason"],
        receivables=row["receivables"],
        overdue_days=row["overdue_days"],
        reservations=reservations,
        open_total=row["open_total"],
        dispatched_total=row["dispatched_total"],
        loaded=loaded,
        version=row["version"],
        updated_at=instant_or_none(row["updated_at"]),
        balance_as_of=instant_or_none(row["balance_as_of"]),
    )


RESERVATION_COLUMNS = "order_id, amount, stage, by_release, at"


def reservation_row(customer_id: str, reservation: Reservation) -> tuple[Any, ...]:
    return (
        customer_id,
        reservation.order_id,
        reservation.amount,
        reservation.stage.value,
        int(reservation.by_release),
        micros(reservation.at),
    )


_STAGES = {stage.value: stage for stage in ReservationStage}


def reservation_from(row: Row) -> Reservation:
    # Called once per reservation read (on a submit, only the order's own): kept lean.
    return Reservation(
        order_id=row["order_id"],
        amount=row["amount"],
        stage=_STAGES[row["stage"]],
        by_release=bool(row["by_release"]),
        at=instant(row["at"]),
    )


LIMIT_REQUEST_COLUMNS = (
    "id, customer_id, current_limit, current_currency, new_limit, new_currency, reason, requested_by, "
    "requested_at, status, decided_by, decided_at, decision_note, kind, valid_until, tolerance_pct, "
    "overdue_block_days"
)
LIMIT_REQUEST_FIELDS = 17


def limit_request_row(request: CreditLimitRequest) -> tuple[Any, ...]:
    return (
        request.id,
        request.customer_id,
        request.current_limit.minor,
        request.current_limit.currency,
        # a request without an amount keeps 0 in the NOT NULL column; its kind says the amount is none
        0 if request.new_limit is None else request.new_limit.minor,
        request.current_limit.currency if request.new_limit is None else request.new_limit.currency,
        request.reason,
        request.requested_by,
        micros(request.requested_at),
        request.status.value,
        request.decided_by,
        micros_or_none(request.decided_at),
        request.decision_note,
        request.kind.value,
        None if request.valid_until is None else request.valid_until.isoformat(),
        None if request.tolerance_pct is None else str(request.tolerance_pct),
        request.overdue_block_days,
    )


def limit_request_from(row: Row) -> CreditLimitRequest:
    kind = TermKind(row["kind"])
    until = row["valid_until"]
    pct = row["tolerance_pct"]
    has_amount = kind is TermKind.LIMIT or (kind is TermKind.TEMPORARY_LIMIT and until is not None)
    return CreditLimitRequest(
        id=row["id"],
        customer_id=row["customer_id"],
        current_limit=Money(row["current_limit"], row["current_currency"]),
        kind=kind,
        new_limit=Money(row["new_limit"], row["new_currency"]) if has_amount else None,
        valid_until=None if until is None else date.fromisoformat(until),
        tolerance_pct=None if pct is None else Decimal(pct),
        overdue_block_days=row["overdue_block_days"],
        reason=row["reason"],
        requested_by=row["requested_by"],
        requested_at=instant(row["requested_at"]),
        status=LimitRequestStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_at=instant_or_none(row["decided_at"]),
        decision_note=row["decision_note"],
    )


LIMIT_CHANGE_COLUMNS = "id, customer_id, kind, old, new, changed_by, at, reason, request_id"


def limit_change_row(change: LimitChange) -> tuple[Any, ...]:
    return (
        change.id,
        change.customer_id,
        change.kind,
        change.old,
        change.new,
        change.changed_by,
        micros(change.at),
        change.reason,
        change.request_id,
    )


def limit_change_from(row: Row) -> LimitChange:
    return LimitChange(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=row["kind"],
        old=row["old"],
        new=row["new"],
        changed_by=row["changed_by"],
        at=instant(row["at"]),
        reason=row["reason"],
        request_id=row["request_id"],
    )


# --- products ----------------------------------------------------------------------------------------------

PRODUCT_COLUMNS = "sku, name, uom, unit_price, currency, tax_rate, active, erp_material_id, min_order_qty, updated_at"


def product_row(product: Product) -> tuple[Any, ...]:
    return (
        product.sku,
        product.name,
        product.uom,
        product.unit_price.minor,
        product.unit_price.currency,
        str(product.tax_rate),
        int(product.active),
        product.erp_material_id,
        str(product.min_order_qty),
        micros(product.updated_at),
    )


def product_from(row: Row) -> Product:
    return Product(
        sku=row["sku"],
        name=row["name"],
        uom=row["uom"],
        unit_price=Money(row["unit_price"], row["currency"]),
        tax_rate=Decimal(row["tax_rate"]),
        active=bool(row["active"]),
        erp_material_id=row["erp_material_id"],
        min_order_qty=Decimal(row["min_order_qty"]),
        updated_at=instant(row["updated_at"]),
    )


# --- targets, outbox, records ------------------------------------------------------------------------------

TARGET_COLUMNS = "user_id, period, amount, currency, set_by, updated_at"


def target_row(target: Target) -> tuple[Any, ...]:
    return (
        target.user_id,
        target.period,
        target.amount.minor,
        target.amount.currency,
        target.set_by,
        micros(target.updated_at),
    )


def target_from(row: Row) -> Target:
    return Target(
        user_id=row["user_id"],
        period=row["period"],
        amount=Money(row["amount"], row["currency"]),
        set_by=row["set_by"],
        updated_at=instant(row["updated_at"]),
    )


OUTBOX_COLUMNS = (
    "id, event, aggregate_id, payload, occurred_at, status, attempts, next_attempt_at, last_error, delivered_at, done"
)


def outbox_row(message: OutboxMessage) -> tuple[Any, ...]:
    return (
        message.id,
        message.event,
        message.aggregate_id,
        dumps_plain(message.payload),
        micros(message.occurred_at),
        message.status.value,
        message.attempts,
        micros(message.next_attempt_at),
        message.last_error,
        micros_or_none(message.delivered_at),
        dumps_plain(list(message.done)),
    )


def outbox_from(row: Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        event=row["event"],
        aggregate_id=row["aggregate_id"],
        payload=loads(row["payload"]),
        occurred_at=instant(row["occurred_at"]),
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=instant(row["next_attempt_at"]),
        last_error=row["last_error"],
        delivered_at=instant_or_none(row["delivered_at"]),
        done=tuple(loads(row["done"])),
    )


IDEMPOTENCY_COLUMNS = "actor_id, operation, key, fingerprint, result_id, created_at, expires_at"


def idempotency_row(record: IdempotencyRecord) -> tuple[Any, ...]:
    return (
        record.actor_id,
        record.operation,
        record.key,
        record.fingerprint,
        record.result_id,
        micros(record.created_at),
        micros(record.expires_at),
    )


def idempotency_from(row: Row) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=row["key"],
        actor_id=row["actor_id"],
        operation=row["operation"],
        fingerprint=row["fingerprint"],
        result_id=row["result_id"],
        created_at=instant(row["created_at"]),
        expires_at=instant(row["expires_at"]),
    )


AUDIT_COLUMNS = "id, at, actor_id, action, entity, entity_id, details"


def audit_row(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        entry.id,
        micros(entry.at),
        entry.actor_id,
        entry.action,
        entry.entity,
        entry.entity_id,
        dumps(entry.details),
    )


def audit_from(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=instant(row["at"]),
        actor_id=row["actor_id"],
        action=row["action"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        details=loads(row["details"]),
    )
