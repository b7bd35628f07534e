"""Ports: what the domain needs from the outside world, as `typing.Protocol`s. Adapters implement them;
the contract suites in tests/contract/ pin down what every implementation must do.

Repositories take and return domain types only. `save` methods of versioned aggregates (orders, credit
accounts) are optimistic: they raise `ConcurrentUpdate` when the stored version is not the one read, and
bump the version on success.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import attrs

from crm_domain.credit import CreditAccount, LimitChange
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus
from crm_domain.customers import Customer
from crm_domain.digest import Digest
from crm_domain.erp import (
    ErpBalance,
    ErpChanges,
    ErpCommitment,
    ErpCreditVerdict,
    ErpCustomer,
    ErpOrderAck,
    ErpOrderRequest,
    ErpOrderStatus,
    ErpProduct,
)
from crm_domain.events import Event
from crm_domain.interactions import Interaction
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.outbox import OutboxMessage, OutboxStats
from crm_domain.performance import Achieved, Target
from crm_domain.products import Product
from crm_domain.records import AuditEntry, IdempotencyRecord, Page, PageRequest
from crm_domain.reports import HeldOrder, LedgerEntry, SalesQuery, SalesTotal
from crm_domain.sales import SalesFigures, SalesKey, SalesMove
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from crm_domain.sessions import OtpChallenge, Session
from crm_domain.users import User


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique, roughly time-ordered identifier."""
        ...


class MobileNormaliser(Protocol):
    def normalise(self, raw: str) -> str:
        """`raw` in E.164 form, or `ValidationFailed` when it is not a possible mobile number."""
        ...


class UserRepository(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def get_by_mobile(self, mobile: str) -> User | None: ...
    def add(self, user: User) -> None:
        """Store a new user; `DuplicateKey` when the mobile is taken."""
        ...

    def save(self, user: User) -> None:
        """Store changes to an existing user; `DuplicateKey` when the new mobile is taken."""
        ...

    def page(
        self, page: PageRequest, *, ids: frozenset[str] | None = None, updated_since: datetime | None = None
    ) -> Page[User]:
        """Users ordered by name then id; only `ids`, and only those changed at or after `updated_since`, when
        given."""
        ...

    def subordinate_ids(self, manager_id: str) -> frozenset[str]:
        """Every user under `manager_id` in the manager tree, recursively (not the manager)."""
        ...


class CustomerRepository(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...
    def get_by_code(self, code: str) -> Customer | None: ...
    def add(self, customer: Customer) -> None:
        """`DuplicateKey` when the code is taken."""
        ...

    def save(self, customer: Customer) -> None: ...
    def page(
        self,
        page: PageRequest,
        scope: Scope,
        *,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Customer]:
        """Customers in `scope`, ordered by code; only those `text` matches (crm_domain.search: the one customer
        search, of the list and of the caller lookup, served by an index on every store) and those changed at or
        after `updated_since`, when given."""
        ...

    def ids_in_scope(self, scope: Scope) -> frozenset[str] | None:
        """The ids of the customers in `scope`; None when the scope is every customer."""
        ...


class CreditAccountRepository(Protocol):
    def get(self, customer_id: str, *, orders: Iterable[str] | None = None) -> CreditAccount | None:
        """The account with all its reservations; with `orders`, with only those orders' reservations
        (`loaded` is that set; the running totals still cover every reservation). A submit reads one order's
        this way, so its cost does not grow with the customer's open orders."""
        ...

    def add(self, account: CreditAccount) -> None: ...
    def save(self, account: CreditAccount) -> None:
        """Optimistic: `ConcurrentUpdate` unless the stored version equals `account.version`; bumps it.
        A partly read account (see `get`) writes the reservations of the orders it was read with and the
        totals; the other orders' reservations stay as stored."""
        ...

    def list_all(self) -> list[CreditAccount]: ...


class ProductRepository(Protocol):
    def get(self, sku: str) -> Product | None: ...
    def get_many(self, skus: list[str]) -> dict[str, Product]: ...
    def add(self, product: Product) -> None:
        """`DuplicateKey` when the SKU exists."""
        ...

    def save(self, product: Product) -> None: ...
    def upsert_many(self, products: list[Product]) -> int:
        """Insert or replace by SKU in one batch; returns how many were written."""
        ...

    def page(
        self,
        page: PageRequest,
        *,
        active_only: bool = False,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Product]:
        """Products ordered by SKU; only those `text` matches and those changed at or after `updated_since`."""
        ...


@attrs.frozen(kw_only=True)
class OrderQuery:
    """Filters of an order list. `customer_ids` is the actor's scope (None: every customer)."""

    customer_ids: frozenset[str] | None = None
    status: OrderStatus | None = None
    customer_id: str | None = None
    rep_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_since: datetime | None = None  # changed at or after (delta sync)


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def get_by_number(self, number: str) -> Order | None: ...
    def add(self, order: Order) -> None: ...
    def save(self, order: Order) -> None:
        """Optimistic: `ConcurrentUpdate` unless the stored version equals `order.version`; bumps it."""
        ...

    def page(self, page: PageRequest, query: OrderQuery) -> Page[Order]:
        """Newest first (created_at, then id, descending)."""
        ...

    def held_for_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders on credit hold, oldest hold first."""
        ...

    def with_status(self, customer_id: str, statuses: frozenset[OrderStatus]) -> list[Order]: ...
    def next_number(self, year: int) -> int:
        """The next value of the order-number sequence of `year`, atomically (1, 2, 3, …)."""
        ...


class TargetRepository(Protocol):
    def get(self, user_id: str, period: str) -> Target | None: ...
    def put(self, target: Target) -> None:
        """Insert or replace the target of (user, period)."""
        ...

    def for_period(
        self, period: str, user_ids: frozenset[str] | None = None, *, updated_since: datetime | None = None
    ) -> list[Target]:
        """The month's targets ordered by user id; only `user_ids`, and only those set at or after
        `updated_since`, when given."""
        ...


class PerformanceRepository(Protocol):
    def add(self, *, user_id: str, period: str, currency: str, amount: int, orders: int) -> None:
        """Add to the running total of (user, period, currency); negative values subtract."""
        ...

    def achieved(self, period: str, user_ids: frozenset[str] | None = None) -> list[Achieved]: ...


class SalesLedger(Protocol):
    def record_moves(self, moves: list[SalesMove]) -> None:
        """Move the sales buckets of orders that changed (`crm_domain.sales.sales_deltas` in the store's company
        time zone), in the same atomic step as the orders; and count one more version of the aggregates."""
        ...


class ReportRepository(SalesLedger, Protocol):
    """What reports read (SPEC §2.8): the sales buckets, the held orders, the customers' ERP ledger. Nothing here
    reads every order, except `rebuild`'s callers paging through them on purpose."""

    def apply(self, deltas: dict[SalesKey, SalesFigures]) -> None:
        """Add `deltas` to the buckets (negative figures subtract)."""
        ...

    def totals(self, query: SalesQuery) -> list[SalesTotal]:
        """Bucket figures summed by `query.group` (day, customer, rep or SKU) and currency, in key order."""
        ...

    def buckets(self) -> dict[SalesKey, SalesFigures]:
        """Every bucket that is not all zero (for `crm reports check`)."""
        ...

    def replace_buckets(self, buckets: dict[SalesKey, SalesFigures]) -> None:
        """Drop every bucket and store `buckets` instead (`crm reports rebuild`); summaries of the buckets a
        store keeps are rebuilt with them."""
        ...

    def summary_differences(self) -> int:
        """Rows of the summaries a store keeps of its buckets (roll-ups) that disagree with the buckets; 0 when
        they agree or the store keeps none."""
        ...

    def version(self) -> str:
        """A token that changes with every change of the buckets (report cache keys)."""
        ...

    def holds(self, customer_ids: frozenset[str] | None) -> list[HeldOrder]:
        """Orders on credit hold of `customer_ids` (None: every customer), oldest hold first (then by number):
        only what the holds report shows, not the whole orders."""
        ...

    def hold_counts(self, customer_ids: frozenset[str] | None) -> dict[str, int]:
        """How many orders each customer has on credit hold (customers with none are left out)."""
        ...

    def add_entry(self, entry: LedgerEntry) -> None:
        """Record an invoice, payment or adjustment of a customer as known from the ERP."""
        ...

    def entries(self, customer_id: str, until: datetime) -> list[LedgerEntry]:
        """The customer's ledger entries before `until`, oldest first."""
        ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def add_all(self, messages: list[OutboxMessage]) -> None:
        """`add` each of `messages`, in one statement where the store allows."""
        ...

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first."""
        ...

    def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxMessage]:
        """Like `due`, but atomically moves each returned message's `next_attempt_at` to `lease_until`, so no
        other worker takes it while this one delivers; a crashed worker's messages come due again when the
        lease ends. Returns the messages as stored after the claim."""
        ...

    def save(self, message: OutboxMessage) -> None: ...
    def get(self, message_id: str) -> OutboxMessage | None: ...
    def stats(self) -> OutboxStats: ...
    def dead(self, limit: int) -> list[OutboxMessage]: ...
    def purge_delivered(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` delivered messages whose delivery was before `before` (retention); returns how
        many. Pending and dead messages are never deleted."""
        ...


class IdempotencyRepository(Protocol):
    def get(self, *, actor_id: str, operation: str, key: str) -> IdempotencyRecord | None:
        """The record, unless it has expired."""
        ...

    def add(self, record: IdempotencyRecord) -> None:
        """`DuplicateKey` when (actor, operation, key) is already recorded."""
        ...

    def purge_expired(self, now: datetime) -> int: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def list_for(self, entity: str, entity_id: str) -> list[AuditEntry]: ...


class CreditLimitRequestRepository(Protocol):
    def get(self, request_id: str) -> CreditLimitRequest | None: ...
    def add(self, request: CreditLimitRequest) -> None: ...
    def save(self, request: CreditLimitRequest) -> None: ...
    def page(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
        updated_since: datetime | None = None,
    ) -> Page[CreditLimitRequest]:
        """Newest first; only those asked or decided at or after `updated_since` (`updated_at`), when given."""
        ...


class LimitHistoryRepository(Protocol):
    def add(self, change: LimitChange) -> None: ...
    def list_for(self, customer_id: str) -> list[LimitChange]:
        """Oldest first."""
        ...


class InteractionRepository(Protocol):
    """The call log (SPEC §2.8)."""

    def add(self, interaction: Interaction) -> None:
        """`DuplicateKey` when the id exists."""
        ...

    def page(self, customer_id: str, page: PageRequest, *, updated_since: datetime | None = None) -> Page[Interaction]:
        """The customer's calls, newest first (`at`, then id, descending); only those logged at or after
        `updated_since`, when given (a call is never changed once logged)."""
        ...


class UnitOfWork(Protocol):
    """One atomic step in the store. Nothing is kept unless `commit()` is called before the block ends."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def credit(self) -> CreditAccountRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def targets(self) -> TargetRepository: ...
    @property
    def performance(self) -> PerformanceRepository: ...
    @property
    def reports(self) -> ReportRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def limit_requests(self) -> CreditLimitRequestRepository: ...
    @property
    def limit_history(self) -> LimitHistoryRepository: ...
    @property
    def interactions(self) -> InteractionRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def publish(self, events: list[Event]) -> None:
        """Write `events`, which no aggregate records, to the outbox at commit, in the same transaction. The
        events of the aggregates added or saved through the order and credit-account repositories go there
        without it (`crm_domain.seen`)."""
        ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. Writers take the store's write lock (or its equivalent) at the start."""
        ...


# --- sign-in, sessions, limits, messages (SPEC §3, §5) ----------------------------------------------------


class OtpStore(Protocol):
    """One live OTP challenge per mobile, with atomic attempt counting and single use."""

    def issue(self, challenge: OtpChallenge, resend_after: int) -> int:
        """Store `challenge` (replacing an older one) unless the previous one was issued less than
        `resend_after` seconds before `challenge.issued_at`; returns 0 when stored, else the seconds to wait."""
        ...

    def get(self, mobile: str) -> OtpChallenge | None:
        """The live challenge (expired ones are gone)."""
        ...

    def add_attempt(self, mobile: str, request_id: str) -> int:
        """Atomically count one verification attempt of that challenge; returns the new count."""
        ...

    def consume(self, mobile: str, request_id: str) -> bool:
        """Remove the challenge; True only for the one caller that removed it (single use)."""
        ...

    def burn(self, mobile: str, request_id: str) -> None:
        """Remove that challenge (an operator's unlock); a no-op when another one is live."""
        ...

    def purge_expired(self, now: datetime) -> int:
        """Delete the challenges expired by `now` (they are ignored already; this frees the space)."""
        ...


class SessionStore(Protocol):
    def create(self, session: Session) -> None: ...
    def get(self, session_id: str) -> Session | None: ...
    def rotate(self, session_id: str, *, expected_jti: str, new_jti: str) -> bool:
        """Compare-and-set the refresh token id; False when `expected_jti` is not the current one (reuse)."""
        ...

    def revoke(self, session_id: str, at: datetime) -> None: ...
    def revoke_user(self, user_id: str, at: datetime) -> int:
        """Revoke every live session of the user; returns how many."""
        ...

    def purge_ended(self, now: datetime) -> int:
        """Delete the sessions that ended (revoked, or expired by `now`); returns how many."""
        ...


class RateLimiter(Protocol):
    """Limits counted in a store that every process shares (SPEC §5, §11): atomic across workers and pods."""

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        """Count one hit on `key` in the current window, atomically across processes; returns 0 while within
        `limit`, else the seconds until the window ends (the Retry-After). Exact: at most `limit` accepted hits
        in any `window_seconds` (the sign-in limits)."""
        ...

    def throttle(self, key: str, rate: int, period_seconds: int) -> int:
        """A rate (the API limits): on average at most `rate` accepted calls per `period_seconds`, in bursts of
        up to `rate`, one atomic step on one small record per key (GCRA); 0 when accepted, else the seconds
        until the next call would be (the Retry-After). Refused calls are not counted."""
        ...

    def reset(self, key: str) -> None:
        """Forget what was counted on `key` (by `hit` and by `throttle`): an operator lifts a lock-out."""
        ...

    def purge(self, now: datetime, longest_window_seconds: int) -> int:
        """Delete what no longer counts: hits older than `longest_window_seconds`, rates fully recovered by
        `now`; returns how many records went (stores whose keys expire by themselves answer 0)."""
        ...


class SmsSender(Protocol):
    def send(self, to: str, text: str) -> None:
        """Send a text message to an E.164 number; `UpstreamUnavailable` when the gateway cannot take it now
        (retry later), `RecipientRejected` when it refuses this message for good (a bad number)."""
        ...


# --- files (SPEC §3) ----------------------------------------------------------------------------------------


class FileStore(Protocol):
    """Bytes under string keys (order attachments). A key is `/`-joined segments of letters, digits, `_` and
    `-` (for example `orders/O-1/A-1`); anything else (`..`, absolute paths, backslashes) is `ValidationFailed`.
    Writes are all-or-nothing: a reader sees the old bytes or the new ones, never a part."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there. `content_type` is kept as metadata where the
        backend has it (GridFS); callers keep their own record of it."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove what is stored under `key`; nothing happens when there is nothing."""
        ...


# --- ERP, e-mail, outbox delivery (SPEC §2.7, §3, §8) --------------------------------------------------------


class ErpGateway(Protocol):
    """One ERP (SAP, GenNext, the sandbox). Every call has a bounded timeout. Transient failures raise
    `UpstreamUnavailable`; permanent refusals raise `crm_domain.erp.ErpRejected`."""

    @property
    def name(self) -> str:
        """`sap`, `gennext` or `sandbox` (a `crm_domain.customers.ErpSystem` value)."""
        ...

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        """Create the order, idempotent by `order.external_ref` (our order id): sending it again returns the
        first ERP order with `duplicate=True` and creates nothing."""
        ...

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        """Cancel in the ERP; cancelling an already cancelled order is not an error."""
        ...

    def order_status(self, erp_order_id: str) -> ErpOrderStatus: ...

    def customer_balance(self, customer_code: str) -> ErpBalance: ...

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        """Customers changed at or after `since` (every customer when None), one page at a time."""
        ...

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]: ...


class ErpGateways(Protocol):
    """Routing: the gateway of each ERP system a customer can name."""

    def for_system(self, system: str) -> ErpGateway:
        """`ValidationFailed` when no gateway of that name is configured."""
        ...


class ErpCreditManagement(Protocol):
    """An ERP's credit management beyond the gateway (SAP Credit Management): its own credit check of an amount,
    and our open orders reported as commitments. Timeouts and failures as `ErpGateway`'s."""

    def credit_worthiness(self, customer_code: str, amount: Money) -> ErpCreditVerdict: ...

    def report_commitments(self, commitments: Sequence[ErpCommitment]) -> None:
        """One-way; a later report of the same external reference replaces the earlier one."""
        ...


class EmailSender(Protocol):
    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        """Send an e-mail: `body` as plain text, with `html` as its HTML alternative when given;
        `UpstreamUnavailable` when the server cannot take it now (retry later), `RecipientRejected` when it
        refuses the address for good."""
        ...


class DigestRenderer(Protocol):
    def render(self, digest: Digest) -> tuple[str, str, str]:
        """(subject, plain text, HTML) of a manager's daily digest; every value in the HTML escaped."""
        ...


class OutboxHandler(Protocol):
    """Delivers outbox messages of some events to one destination (ERP sync, SMS, e-mail). Idempotent: the
    worker delivers at least once, so a message may arrive again after a crash. Raise `UpstreamUnavailable`
    to have the message retried with backoff; any other exception counts as a failed attempt as well."""

    @property
    def name(self) -> str: ...

    @property
    def events(self) -> tuple[type[Event], ...]:
        """The event classes it subscribes to (their subclasses too); the worker routes a message by the class
        its stored name stands for (`crm_domain.events.EVENT_TYPES`)."""
        ...

    def handle(self, message: OutboxMessage) -> None: ...
