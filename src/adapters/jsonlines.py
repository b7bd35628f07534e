"""A JSON-lines file that several threads and processes append to: one `O_APPEND` write a line, so lines never
interleave; the file is made readable by its owner only (it holds mobiles, codes and addresses). The development
SMS and e-mail backends write their messages here for a developer or a test to read."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


class JsonLinesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
