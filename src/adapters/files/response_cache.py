"""The store behind Litestar's response cache on the embedded configuration: files in the data directory, shared
by the worker processes of one machine (Litestar's `FileStore`), read in the event loop.

Litestar reads each file in a worker thread (anyio's `Path.read_bytes`); a cached catalogue read makes two reads
(the catalogue version, then the answer), and the two hops to a thread and back cost more CPU than reading a few
kilobytes from the page cache. Writes stay in a thread (they are rare: one per cache fill or catalogue write).
"""

from __future__ import annotations

from pathlib import Path

import anyio
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore


class InlineReadFileStore(FileStore):
    @staticmethod
    async def _load_from_path(path: anyio.Path) -> StorageObject | None:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return None
        return StorageObject.from_bytes(data)
