r"""MongoDB filters of a text search (crm_domain/search.py) and of `updated_since`.

Every condition is a regular expression on an indexed field (`crm db init` makes the indexes, store.INDEXES): a
mobile prefix (`^\+91…`) reads a range of the mobile index; a code or SKU prefix (ASCII case ignored through a
character class per letter) and the name words scan the keys of their index, never the documents.
"""

from __future__ import annotations

import re
from datetime import datetime

from adapters.epoch_micros import micros
from adapters.mongo.query import Filter
from crm_domain.search import NATIONAL_DIGITS, WORD_SEPARATORS, TextQuery

_WORD_START = "(?:^|[\\s" + re.escape(WORD_SEPARATORS) + "])"


def _folded_prefix(prefix: str) -> str:
    """An anchored pattern matching `prefix` with ASCII letters in either case."""
    return "^" + "".join(f"[{c}{c.upper()}]" if "a" <= c <= "z" else re.escape(c) for c in prefix)


def text_filter(text: TextQuery, *, code_field: str, by_mobile: bool) -> Filter:
    alternatives: list[Filter] = [{code_field: {"$regex": _folded_prefix(text.prefix)}}]
    if text.words:
        words: list[Filter] = [{"name": {"$regex": _WORD_START + _folded_prefix(w)[1:]}} for w in text.words]
        alternatives.append({"$and": words})
    if by_mobile and text.digits is not None:
        digits = text.digits
        alternatives.append({"mobile": {"$regex": "^\\+" + digits}})
        if len(digits) <= NATIONAL_DIGITS:  # the national number (the last 10 digits) starts with them
            alternatives.append({"mobile": {"$regex": digits + f"[0-9]{{{NATIONAL_DIGITS - len(digits)}}}$"}})
    return {"$or": alternatives}


def updated_since_filter(updated_since: datetime | None) -> Filter:
    return {} if updated_since is None else {"updated_at": {"$gte": micros(updated_since)}}
