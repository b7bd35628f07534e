"""The SQL of a text search (crm_domain/search.py) over the `search_terms` table that triggers keep (schema.py)."""

from __future__ import annotations

from typing import Any

from crm_domain.search import TextQuery

_AFTER_EVERY_PREFIXED = "\U0010ffff"


def _with_prefix(entity: str, key_column: str, prefix: str) -> tuple[str, list[Any]]:
    """Rows with a term starting with `prefix`: a range scan of the terms' primary key."""
    sql = f"{key_column} IN (SELECT key FROM search_terms WHERE entity = ? AND term >= ? AND term < ?)"  # noqa: S608 - a column name of ours
    return sql, [entity, prefix, prefix + _AFTER_EVERY_PREFIXED]


def text_filter(entity: str, key_column: str, text: TextQuery, *, by_mobile: bool) -> tuple[str, list[Any]]:
    """A WHERE condition (and its parameters) for the rows of `entity` that `text` matches."""
    alternatives: list[str] = []
    params: list[Any] = []
    code_sql, code_params = _with_prefix(entity, key_column, "c:" + text.prefix)
    alternatives.append(code_sql)
    params += code_params
    if text.words:
        every_word = [_with_prefix(entity, key_column, "w:" + word) for word in text.words]
        alternatives.append("(" + " AND ".join(sql for sql, _ in every_word) + ")")
        params += [p for _, word_params in every_word for p in word_params]
    if by_mobile and text.digits is not None:
        mobile_sql, mobile_params = _with_prefix(entity, key_column, "m:" + text.digits)
        alternatives.append(mobile_sql)
        params += mobile_params
    return "(" + " OR ".join(alternatives) + ")", params
