"""Domain objects for the contract suites, with every optional field set to something other than its default
(so a round trip that drops a field fails), and small helpers to run steps in units of work."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

from adapters.pagination import encode_cursor
from crm_domain.credit import CreditAccount, HoldReason, LimitChange, Reservation, ReservationStage, Verdict
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus
from crm_domain.customers import Customer, ErpSystem
from crm_domain.money import Money
from crm_domain.orders import (
    Attachment,
    Channel,
    CreditDecision,
    ErpSync,
    Order,
    OrderLine,
    OrderStatus,
    StatusChange,
)
from crm_domain.outbox import OutboxMessage, OutboxStatus
from crm_domain.performance import Target
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from crm_domain.products import Product
from crm_domain.records import AuditEntry, IdempotencyRecord, Page, PageRequest
from crm_domain.users import Role, User

T = TypeVar("T")

IST = timezone(timedelta(hours=5, minutes=30))
#: A moment with microseconds, written in India time: stores must give back an equal instant.
T0 = datetime(2026, 11, 2, 15, 0, 0, 123456, tzinfo=IST)
_serial = itertools.count(1)


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def inr(minor: int) -> Money:
    return Money(minor, "INR")


# --- units of work -------------------------------------------------------------------------------------------


def write(store: UnitOfWorkFactory, step: Callable[[UnitOfWork], T]) -> T:
    """Run `step` in a writing unit of work and commit."""
    with store() as uow:
        result = step(uow)
        uow.commit()
        return result


def read(store: UnitOfWorkFactory, step: Callable[[UnitOfWork], T]) -> T:
    with store(read_only=True) as uow:
        return step(uow)


def walk(list_page: Callable[[PageRequest], Page[T]], limit: int) -> list[T]:
    """Every item of a paged list, following `next_cursor` to the end."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(1000):
        page = list_page(PageRequest(limit=limit, cursor=cursor))
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor
    raise AssertionError("pagination does not end")


def forged_cursors(key: list[str | int]) -> list[str]:
    """Cursors no store hands out for a list whose sort key looks like `key`."""
    wrong_types: list[str | int] = [1 if isinstance(v, str) else "x" for v in key]
    return [
        "not a cursor!",
        "e30",  # {} in base64
        encode_cursor([*key, "extra"]),
        encode_cursor(wrong_types),
    ]


# --- people --------------------------------------------------------------------------------------------------


def a_mobile() -> str:
    return f"+9198{next(_serial):08d}"


def a_user(
    id: str = "u-1",
    *,
    name: str = "Asha Rao",
    manager_id: str | None = "u-boss",
    mobile: str | None = None,
    roles: frozenset[Role] = frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    customer_id: str | None = None,
) -> User:
    return User(
        id=id,
        mobile=mobile or a_mobile(),
        name=name,
        roles=roles,
        email=f"{id}@example.com",
        manager_id=manager_id,
        territory="Pune West",
        customer_id=customer_id,
        active=False,
        created_at=at(),
        updated_at=at(5),
    )


def a_customer(
    id: str = "c-1",
    *,
    code: str | None = None,
    assigned_rep_id: str | None = "u-1",
    mobile: str | None = None,
) -> Customer:
    return Customer(
        id=id,
        code=code or f"D-{id}",
        name=f"Dealer {id}",
        mobile=mobile or a_mobile(),
        territory="Nashik",
        currency="INR",
        erp_system=ErpSystem.GENNEXT,
        erp_customer_id=f"ERP-{id}",
        assigned_rep_id=assigned_rep_id,
        active=False,
        created_at=at(),
        updated_at=at(1),
    )


# --- credit --------------------------------------------------------------------------------------------------


def a_reservation(
    order_id: str,
    amount: int,
    *,
    minutes: float = 0,
    stage: ReservationStage = ReservationStage.OPEN,
    by_release: bool = False,
) -> Reservation:
    return Reservation(order_id=order_id, amount=amount, stage=stage, by_release=by_release, at=at(minutes))


def an_account(customer_id: str = "c-1", *, reservations: list[Reservation] | None = None) -> CreditAccount:
    if reservations is None:
        reservations = [
            a_reservation("o-1", 125_00),
            a_reservation("o-2", 300_50, minutes=1, stage=ReservationStage.DISPATCHED),
            a_reservation("o-3", 99_99, minutes=2, by_release=True),
        ]
    return CreditAccount(
        customer_id=customer_id,
        currency="INR",
        limit=1_000_000_00,
        tolerance_pct=Decimal("7.50"),
        temp_limit=1_500_000_00,
        temp_limit_until=date(2026, 12, 31),
        overdue_block_days=45,
        blocked=True,
        block_reason="cheque bounced",
        receivables=250_000_00,
        overdue_days=12,
        balance_as_of=at(6),
        reservations={r.order_id: r for r in reservations},
        version=3,
        updated_at=at(7),
    )


def a_limit_request(
    id: str = "lr-1",
    *,
    customer_id: str = "c-1",
    minutes: float = 0,
    status: LimitRequestStatus = LimitRequestStatus.PENDING,
) -> CreditLimitRequest:
    decided = status is not LimitRequestStatus.PENDING
    return CreditLimitRequest(
        id=id,
        customer_id=customer_id,
        current_limit=inr(500_000_00),
        new_limit=inr(750_000_00),
        reason="festival season stock-up",
        requested_by="u-1",
        requested_at=at(minutes),
        status=status,
        decided_by="u-controller" if decided else None,
        decided_at=at(minutes + 30) if decided else None,
        decision_note="two years of clean payments" if decided else None,
    )


def a_limit_change(id: str = "lc-1", *, customer_id: str = "c-1", minutes: float = 0) -> LimitChange:
    return LimitChange(
        id=id,
        customer_id=customer_id,
        kind="limit",
        old="5000.00",
        new="7500.00",
        changed_by="u-controller",
        at=at(minutes),
        reason="approved request",
        request_id="lr-1",
    )


# --- catalogue and orders ------------------------------------------------------------------------------------


def a_product(sku: str = "PUMP-1", *, active: bool = True, name: str | None = None, price: int = 420_00) -> Product:
    return Product(
        sku=sku,
        name=name or f"Product {sku}",
        uom="BOX",
        unit_price=inr(price),
        tax_rate=Decimal("18.00"),
        active=active,
        erp_material_id=f"MAT-{sku}",
        min_order_qty=Decimal("2.500"),
        updated_at=at(),
    )


def a_line(sku: str = "PUMP-1") -> OrderLine:
    return OrderLine(
        sku=sku,
        name=f"Product {sku}",
        uom="BOX",
        quantity=Decimal("2.500"),
        discount_pct=Decimal("12.50"),
        unit_price=inr(420_00),
        tax_rate=Decimal("18.00"),
        net=inr(918_75),
        tax=inr(165_38),
        total=inr(1084_13),
    )


def an_order(
    id: str = "o-1",
    *,
    number: str | None = None,
    customer_id: str = "c-1",
    status: OrderStatus = OrderStatus.SUBMITTED,
    rep_id: str | None = "u-1",
    created_at: datetime | None = None,
    held_at: datetime | None = None,
) -> Order:
    created = created_at or at()
    return Order(
        id=id,
        number=number or f"SO-2026-{id}",
        customer_id=customer_id,
        created_by="u-agent",
        channel=Channel.CALL_CENTER,
        currency="INR",
        lines=(a_line("PUMP-1"), a_line("VALVE-2")),
        notes="deliver before Diwali",
        status=status,
        rep_id=rep_id,
        credit=CreditDecision(
            verdict=Verdict.HOLD,
            reason=HoldReason.LIMIT_EXCEEDED,
            available=inr(1000_00),
            shortfall=inr(1168_26),
            decided_at=created + timedelta(seconds=1),
            released_by="u-controller",
            released_at=created + timedelta(minutes=3),
            release_note="known dealer",
            released_shortfall=inr(1168_26),
        ),
        erp_sync=ErpSync.FAILED,
        erp_order_id="4500012345",
        erp_error="timeout",
        erp_changed_at=created + timedelta(minutes=2, microseconds=7),
        history=[
            StatusChange(from_status=None, to_status=OrderStatus.DRAFT, actor_id="u-agent", at=created),
            StatusChange(
                from_status=OrderStatus.DRAFT,
                to_status=status,
                actor_id="u-agent",
                at=created + timedelta(seconds=1),
                note="limit_exceeded",
            ),
        ],
        attachments=[
            Attachment(
                id="att-1",
                filename="po.pdf",
                content_type="application/pdf",
                size=48_213,
                uploaded_by="u-agent",
                uploaded_at=created + timedelta(minutes=1),
            )
        ],
        created_at=created,
        updated_at=created + timedelta(minutes=3),
        submitted_at=created + timedelta(minutes=3),
        held_at=held_at,
        version=0,
    )


# --- targets, outbox and records ------------------------------------------------------------------------------


def a_target(user_id: str = "u-1", period: str = "2026-11", amount: int = 5_000_000_00) -> Target:
    return Target(user_id=user_id, period=period, amount=inr(amount), set_by="u-boss", updated_at=at())


def a_message(
    id: str = "m-1",
    *,
    status: OutboxStatus = OutboxStatus.PENDING,
    occurred_minutes: float = 0,
    next_minutes: float = 0,
) -> OutboxMessage:
    return OutboxMessage(
        id=id,
        event="order.submitted",
        aggregate_id="o-1",
        payload={
            "order_id": "o-1",
            "total": {"amount": "1084.13", "currency": "INR"},
            "lines": [1, 2.5, None, True],
            "note": "नमस्ते",
        },
        occurred_at=at(occurred_minutes),
        status=status,
        attempts=2,
        next_attempt_at=at(next_minutes),
        last_error="ERP timeout" if status is not OutboxStatus.DELIVERED else None,
        delivered_at=at(next_minutes + 1) if status is OutboxStatus.DELIVERED else None,
    )


def an_idempotency_record(
    key: str = "key-1",
    *,
    actor_id: str = "u-1",
    operation: str = "order.create",
    expires_at: datetime | None = None,
    result_id: str = "o-1",
) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        actor_id=actor_id,
        operation=operation,
        fingerprint="sha256-of-the-body",
        result_id=result_id,
        created_at=at(),
        expires_at=expires_at or at(24 * 60),
    )


def an_audit_entry(id: str = "a-1", *, entity: str = "order", entity_id: str = "o-1", minutes: float = 0) -> AuditEntry:
    return AuditEntry(
        id=id,
        at=at(minutes),
        actor_id="u-controller",
        action="order.released",
        entity=entity,
        entity_id=entity_id,
        details={"note": "known dealer", "shortfall": "1168.26", "fields": ["a", "b"], "nested": {"n": 1}},
    )
