"""Every setting is in README's configuration table, and the table names no setting that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from entrypoints.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_configuration_table_lists_exactly_the_settings() -> None:
    rows = set(re.findall(r"^\| `(CRM_[A-Z0-9_]+)` \|", README.read_text(), re.MULTILINE))
    assert rows == {f"CRM_{name.upper()}" for name in Settings.model_fields}
