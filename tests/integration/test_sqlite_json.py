"""The SQLite codec's JSON: documents of JSON types are encoded in C (`dumps_plain`) and must read back exactly
as the standard library's encoding of the same value would (`dumps`), so stored rows do not depend on which
of the two wrote them."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.sqlite.codec import dumps, dumps_plain, loads

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal, and -0.0 stays -0.0 (== alone does not tell)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(st.lists(documents, max_size=4) | st.dictionaries(st.text(max_size=8), documents, max_size=6))
def test_plain_documents_read_back_as_the_standard_encoding_does(value: dict[str, Any] | list[Any]) -> None:
    text = dumps_plain(value)
    assert isinstance(text, str)
    assert same(loads(text), value)
    assert same(loads(text), json.loads(dumps(value)))
    assert same(json.loads(text), loads(dumps(value)))


def test_plain_documents_keep_text_as_written() -> None:
    value = {"name": "Dealer é ☃ \u2028", "nul": "\x00", "lines": [{"qty": "2.500"}]}
    text = dumps_plain(value)
    assert "é ☃" in text  # not escaped: stored as UTF-8, like dumps(ensure_ascii=False)
    assert loads(text) == value


def test_non_finite_floats_written_by_the_standard_encoding_read_back() -> None:
    value = {"ratio": math.inf, "low": -math.inf, "big": 1.5e400}
    back = loads(dumps(value))
    assert back["ratio"] == math.inf and back["low"] == -math.inf and back["big"] == math.inf
    assert math.isnan(loads(dumps([math.nan]))[0])
