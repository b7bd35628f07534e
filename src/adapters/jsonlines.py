"""A JSON-lines file that several threads and processes append to: one `O_APPEND` write a line, so lines never
interleave; the file is made readable by its owner only (it holds mobiles, codes and addresses). The development
SMS and e-mail backends write their messages here for a developer or a test to read."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from adapters.owner_only import FILE_MODE, owner_only_file


class JsonLinesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._checked = False

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if not self._checked:  # once: the folder made 0700, a file an older version left wider narrowed
                owner_only_file(self.path)
                self._checked = True
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
