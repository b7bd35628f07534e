"""`.env.example` lists every setting of `Settings` once, and nothing else; the README's configuration table
names every setting; and the settings read a `.env` file in the working directory (the environment wins)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PREFIX = str(Settings.model_config.get("env_prefix"))
FIELDS = sorted(PREFIX + name.upper() for name in Settings.model_fields)


def test_env_example_lists_every_setting_once_and_no_other() -> None:
    names = re.findall(r"^#? ?(CRM_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert sorted(names) == FIELDS


def test_the_readme_configuration_table_names_every_setting() -> None:
    rows = set(re.findall(r"^\| `(CRM_[A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.MULTILINE))
    assert sorted(set(FIELDS) - rows) == [], "settings missing from README's configuration table"
    assert sorted(rows - set(FIELDS)) == [], "README rows for settings that do not exist"


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CRM_JWT_ISSUER=from-dotenv\nCRM_API_RATE=77\nUNRELATED=1\n")
    monkeypatch.setenv("CRM_API_RATE", "88")
    settings = Settings()
    assert (settings.jwt_issuer, settings.api_rate) == ("from-dotenv", 88)
