"""The development SMS file (`DATA_DIR/sms.jsonl`, one JSON object a line) as the tests read sign-in codes from it."""

from __future__ import annotations

import json
from pathlib import Path


def last_code(sms_file: Path, mobile: str) -> str:
    """The sign-in code of the newest SMS to `mobile` (its first six characters)."""
    for line in reversed(sms_file.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == mobile:
            return str(message["text"][:6])
    raise AssertionError(f"no SMS to {mobile}")
