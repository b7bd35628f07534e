"""The decisions index (`docs/decisions/README.md`) lists every decision record, and each row says what the
record says: its number, its title and its status. A record added without a row, a row left behind by a renamed
file, or a status changed in one place only fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DECISIONS = Path(__file__).resolve().parents[2] / "docs" / "decisions"
ROW = re.compile(r"^\| \[(?P<number>\d{4})\]\((?P<file>[^)]+)\) \| (?P<title>.+?) \| (?P<status>.+?) \|$")
TITLE = re.compile(r"^# (?P<number>\d+)\. (?P<title>.+)$")
STATUS = re.compile(r"^(?:\*\*Status\.\*\*|## Status\n)\s*(?P<status>[^\n]+?)\.?$", re.MULTILINE)


def records() -> list[Path]:
    return sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))


def index_rows() -> dict[str, dict[str, str]]:
    text = (DECISIONS / "README.md").read_text()
    rows = [match.groupdict() for line in text.splitlines() if (match := ROW.match(line))]
    assert len({row["number"] for row in rows}) == len(rows), "a decision number appears twice in the index"
    return {row["file"]: row for row in rows}


def test_every_record_has_a_row_and_every_row_a_record() -> None:
    files = {path.name for path in records()}
    assert files, "no decision records found"
    rows = index_rows()
    assert sorted(files - rows.keys()) == [], "decision records missing from docs/decisions/README.md"
    assert sorted(rows.keys() - files) == [], "index rows that link to no decision record"


def test_numbers_follow_each_other_without_gaps() -> None:
    numbers = [int(path.name[:4]) for path in records()]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("path", records(), ids=lambda path: path.name[:4])
def test_the_row_says_what_the_record_says(path: Path) -> None:
    text = path.read_text()
    heading = TITLE.match(text.splitlines()[0])
    assert heading is not None, f"{path.name} must start with '# N. Title'"
    assert int(heading["number"]) == int(path.name[:4])
    status = STATUS.search(text)
    assert status is not None, f"{path.name} has no Status"
    row = index_rows()[path.name]
    assert row["number"] == path.name[:4]
    assert row["title"] == heading["title"]
    assert row["status"].rstrip(".") == status["status"].rstrip(".")
