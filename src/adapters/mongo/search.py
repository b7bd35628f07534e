r"""MongoDB filters of the one text search (crm_domain/search.py: `q` on the lists, the caller lookup) and of
`updated_since`.

Customers and products carry `name_words` (the folded words of their name, `words_of`, written with the document
by their repositories; `crm db init` gives them to documents stored before), so each word of the query is an
anchored regex on a multikey index, a range of its keys. A mobile prefix (`^\+91…`) reads a range of the mobile
index (its national form scans that index's keys, never the documents); a code or SKU prefix (ASCII case ignored
through a character class per letter) is an anchored regex on the code's index.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection

from adapters.epoch_micros import micros
from adapters.mongo.query import Filter
from crm_domain.search import NATIONAL_DIGITS, TextQuery, words_of

#: The search's indexes of customers and of products (besides the code's or SKU's own), in store.INDEXES.
CUSTOMER_SEARCH_INDEXES = [
    IndexModel([("mobile", ASCENDING)], name="by_mobile"),
    IndexModel([("name_words", ASCENDING)], name="by_name_words"),
]
PRODUCT_SEARCH_INDEXES = [IndexModel([("name_words", ASCENDING)], name="by_name_words")]


def name_words(name: str) -> list[str]:
    """The `name_words` of a document: the distinct words of its name (crm_domain.search.words_of)."""
    return sorted(set(words_of(name)))


def _folded_prefix(prefix: str) -> str:
    """An anchored pattern matching `prefix` with ASCII letters in either case."""
    return "^" + "".join(f"[{c}{c.upper()}]" if "a" <= c <= "z" else re.escape(c) for c in prefix)


def text_filter(text: TextQuery, *, code_field: str, by_mobile: bool) -> Filter:
    alternatives: list[Filter] = [{code_field: {"$regex": _folded_prefix(text.prefix)}}]
    if text.words:
        words: list[Filter] = [{"name_words": {"$regex": "^" + re.escape(w)}} for w in text.words]
        alternatives.append({"$and": words})
    if by_mobile and text.digits is not None:
        digits = text.digits
        alternatives.append({"mobile": {"$regex": "^\\+" + digits}})
        if len(digits) <= NATIONAL_DIGITS:  # the national number (the last 10 digits) starts with them
            alternatives.append({"mobile": {"$regex": digits + f"[0-9]{{{NATIONAL_DIGITS - len(digits)}}}$"}})
    return {"$or": alternatives}


def updated_since_filter(updated_since: datetime | None) -> Filter:
    return {} if updated_since is None else {"updated_at": {"$gte": micros(updated_since)}}


def backfill_name_words(collection: Collection[dict[str, Any]]) -> int:
    """Give `name_words` to the documents stored before the search had them (run by `crm db init`); returns how
    many. A document renamed meanwhile is left to the rename, which writes its words itself."""
    filled = 0
    for doc in collection.find({"name_words": {"$exists": False}}, {"name": 1}):
        done = collection.update_one(
            {"_id": doc["_id"], "name": doc["name"], "name_words": {"$exists": False}},
            {"$set": {"name_words": name_words(doc["name"])}},
        )
        filled += done.modified_count
    return filled
