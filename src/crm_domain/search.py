"""The one text search of customers and products: `q` on their lists (SPEC §4) and the call-center portal's
caller lookup (SPEC §12, `services.dealer_card`) both use it, and every store follows it.

A customer matches when its code starts with the query, when every word of the query starts a word of its name,
or, for a query of digits (spaces, `+`, `-`, `.`, `/` and brackets aside, at least 4 digits, leading zeros — a
trunk `0` or an international `00` — dropped), when its mobile starts with them, in full international form
without `+` (`9198…`) or as the national number (its last 10 digits). So a mobile is found however it is written,
whole or by its first digits. A product matches by SKU prefix or by the words of its name. Case is ignored for
ASCII letters only (the stores fold ASCII, as SQLite's `lower` does); names are cut into words at spaces and at
``-.,/()&'_``.
"""

from __future__ import annotations

from typing import Final

import attrs

from crm_domain.errors import ValidationFailed

#: Characters that separate the words of a name (besides whitespace).
WORD_SEPARATORS: Final = "-.,/()&'_"
NATIONAL_DIGITS: Final = 10
MAX_QUERY: Final = 100
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TO_SPACE: Final = str.maketrans(dict.fromkeys(WORD_SEPARATORS + "\t\n\r", " "))
_PHONE_NOISE: Final = str.maketrans(dict.fromkeys(" +-()./", ""))
MIN_MOBILE_DIGITS: Final = 4


def fold(text: str) -> str:
    """`text` with ASCII letters lower-cased (nothing else changes)."""
    return text.translate(_ASCII_LOWER)


def words_of(name: str) -> list[str]:
    """The folded words of a name, in order."""
    return [word for word in fold(name).translate(_TO_SPACE).split(" ") if word]


@attrs.frozen
class TextQuery:
    """A parsed `q`: the folded text (a code or SKU prefix), its words (name-word prefixes) and its digits (a
    mobile prefix) when it is a phone number."""

    prefix: str
    words: tuple[str, ...]
    digits: str | None  # without leading zeros

    @classmethod
    def parse(cls, q: str) -> TextQuery:
        text = q.strip()
        if not text:
            raise ValidationFailed("q must not be empty", field="q")
        if len(text) > MAX_QUERY:
            raise ValidationFailed(f"q must be at most {MAX_QUERY} characters", field="q")
        if any(ord(c) < 32 for c in text):
            raise ValidationFailed("q must not contain control characters", field="q")
        bare = text.translate(_PHONE_NOISE)
        phone = bare.isascii() and bare.isdigit() and len(bare) >= MIN_MOBILE_DIGITS
        digits = (bare.lstrip("0") or None) if phone else None
        return cls(prefix=fold(text), words=tuple(words_of(text)), digits=digits)

    def matches_customer(self, code: str, name: str, mobile: str) -> bool:
        return fold(code).startswith(self.prefix) or self._matches_name(name) or self.matches_mobile(mobile)

    def matches_mobile(self, mobile: str) -> bool:
        return self.digits is not None and any(m.startswith(self.digits) for m in mobile_forms(mobile))

    def matches_product(self, sku: str, name: str) -> bool:
        return fold(sku).startswith(self.prefix) or self._matches_name(name)

    def _matches_name(self, name: str) -> bool:
        if not self.words:
            return False
        have = words_of(name)
        return all(any(w.startswith(q) for w in have) for q in self.words)


def mobile_forms(mobile: str) -> tuple[str, str]:
    """The digits a mobile is found by: international without `+`, and national (the last 10 digits)."""
    international = mobile.removeprefix("+")
    return international, international[-NATIONAL_DIGITS:]
