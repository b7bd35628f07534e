"""`LocalFileStore`: attachments as files under one directory (the embedded default, `CRM_FILES_DIR`).

Key `orders/O-1/A-1` is the file `ROOT/orders/O-1/A-1.bin`. The suffix keeps the key space flat: a key may
be a prefix of another (`a/b` and `a/b/c`) without a file standing where a directory must be. Every write
goes to a temporary file in the target's directory and is renamed over the target, so readers (in any
process) see the old bytes or the new ones, never a part.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from adapters.owner_only import owner_only_dir
from crm_domain.errors import ValidationFailed

_KEY = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_MAX_KEY_LENGTH = 512
_SUFFIX = ".bin"


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # The content type is not kept: attachments carry their (detected) type in the order record.
        target = self._path(key)
        owner_only_dir(target.parent)
        # A leading dot and the ".tmp" suffix can never be a key's file name, so a crash never leaves
        # something that `get` would return.
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _sync_directory(target.parent)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH or not _KEY.fullmatch(key):
            raise ValidationFailed("a file key is '/'-joined segments of letters, digits, '_' and '-'", field="key")
        return self._root.joinpath(*key.split("/")).with_suffix(_SUFFIX)


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
