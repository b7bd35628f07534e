"""Credit accounts, credit-limit requests and the limit history on MongoDB.

A credit account is one document: its terms, its reservations keyed by order id, running totals of what is
reserved (minor units) and a version. Saving it is one conditional update on that version, which is what makes
the check-and-reserve of a submit atomic: of two submits that read the same version, one write matches and the
other is `ConcurrentUpdate` (the service then runs the check again on the new figures). An account read for
some orders decodes only their reservations; saving it puts them over the stored document's others.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from adapters.epoch_micros import micros
from adapters.mongo.base import MongoRepository
from adapters.mongo.codec import decode, escape_key, unescape_key
from adapters.mongo.query import Filter
from adapters.mongo.tx import Op, StagedWrite
from crm_domain.credit import CreditAccount, LimitChange
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus
from crm_domain.errors import ConcurrentUpdate, DuplicateKey
from crm_domain.records import Page, PageRequest


def _totals(account: CreditAccount) -> dict[str, int]:
    return {"reserved": account.reserved, "open_orders": account.open_orders, "dispatched": account.dispatched}


class MongoCreditAccountRepository(MongoRepository):
    collection = "credit"

    def get(self, customer_id: str, *, orders: Iterable[str] | None = None) -> CreditAccount | None:
        doc = self._tx.get(self.collection, customer_id)
        if doc is None:
            return None
        if orders is None:
            return decode(CreditAccount, doc)
        loaded = frozenset(orders)
        if "open_total" not in doc or "dispatched_total" not in doc:
            # a document from before the running totals: they are summed from every reservation
            whole = decode(CreditAccount, doc)
            part = {o: whole.reservations[o] for o in sorted(loaded) if o in whole.reservations}
            return attrs.evolve(whole, reservations=part, loaded=loaded)
        held: dict[str, Any] = doc.get("reservations", {})
        wanted = {key: held[key] for key in sorted(map(escape_key, loaded)) if key in held}
        return attrs.evolve(decode(CreditAccount, {**doc, "reservations": wanted}), loaded=loaded)

    def add(self, account: CreditAccount) -> None:
        if self._tx.get(self.collection, account.customer_id) is not None:
            raise DuplicateKey("credit account", "customer_id", account.customer_id)
        self._stage(Op.INSERT, self._doc(account.customer_id, account, **_totals(account)))
        self._tx.seen.note(account)

    def save(self, account: CreditAccount) -> None:
        """One conditional replace on the version read; a partly read account's reservations go over the
        stored document's others (the version check makes that document the one the account was read from)."""
        customer_id, expected = account.customer_id, account.version
        stored = self._tx.get(self.collection, customer_id)
        if stored is None or stored.get("version") != expected:
            raise ConcurrentUpdate("credit account", customer_id)
        account.check_within_loaded()
        loaded = account.loaded
        account.version = expected + 1
        try:
            doc = self._doc(customer_id, account, **_totals(account))
        except BaseException:
            account.version = expected
            raise
        if loaded is not None:
            others = stored.get("reservations", {})
            kept = {key: value for key, value in others.items() if unescape_key(key) not in loaded}
            doc["reservations"] = {**kept, **doc["reservations"]}
        self._tx.stage(StagedWrite(collection=self.collection, id=customer_id, op=Op.CAS, doc=doc, expected=expected))
        self._tx.seen.note(account)

    def list_all(self) -> list[CreditAccount]:
        return self._find(CreditAccount, {}, [("_id", 1)])


class MongoCreditLimitRequestRepository(MongoRepository):
    collection = "limit_requests"

    def get(self, request_id: str) -> CreditLimitRequest | None:
        return self._get(CreditLimitRequest, request_id)

    def add(self, request: CreditLimitRequest) -> None:
        if self._tx.get(self.collection, request.id) is not None:
            raise DuplicateKey("credit-limit request", "id", request.id)
        self._insert_tracked(self._doc(request.id, request))

    def save(self, request: CreditLimitRequest) -> None:
        self._save_tracked(self._doc(request.id, request))

    def page(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
        updated_since: datetime | None = None,
    ) -> Page[CreditLimitRequest]:
        query: Filter = {}
        if updated_since is not None:  # `updated_at`: the decision's time, or the request's while open (by_updated)
            at = micros(updated_since)
            query["$or"] = [{"decided_at": {"$gte": at}}, {"decided_at": None, "requested_at": {"$gte": at}}]
        if status is not None:
            query["status"] = status.value
        if customer_ids is not None:
            query["customer_id"] = {"$in": sorted(customer_ids)}
        return self._page(CreditLimitRequest, query, [("requested_at", -1), ("_id", -1)], (int, str), page)


class MongoLimitHistoryRepository(MongoRepository):
    collection = "limit_history"

    def add(self, change: LimitChange) -> None:
        if self._tx.get(self.collection, change.id) is not None:
            raise DuplicateKey("limit change", "id", change.id)
        self._insert_tracked(self._doc(change.id, change))

    def list_for(self, customer_id: str) -> list[LimitChange]:
        return self._find(LimitChange, {"customer_id": customer_id}, [("at", 1), ("_id", 1)])
