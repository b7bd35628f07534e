"""`GridFsFileStore`: order attachments in MongoDB's GridFS (production, with the MongoDB store).

A key is a GridFS file name. `put` uploads a new revision and then removes the older ones: GridFS writes the
chunks first and the file document last, so a reader finds the old bytes or the new ones, never a part, and
`get` always reads the newest complete revision. GridFS writes are never part of a transaction (SPEC §11):
a file is written before the order that names it is committed, and removed after.
"""

from __future__ import annotations

import re
from typing import Any

from gridfs import GridFSBucket
from gridfs.errors import CorruptGridFile, NoFile
from pymongo.database import Database

from crm_domain.errors import ValidationFailed

_KEY = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_MAX_KEY_LENGTH = 512
BUCKET = "attachments"
_READ_ATTEMPTS = 3


class GridFsFileStore:
    def __init__(self, db: Database[dict[str, Any]], bucket: str = BUCKET) -> None:
        self._bucket = GridFSBucket(db, bucket_name=bucket)
        self._files = db[f"{bucket}.files"]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = _checked(key)
        new_id = self._bucket.upload_from_stream(name, data, metadata={"contentType": content_type})
        for older in self._files.find({"filename": name, "_id": {"$ne": new_id}}, {"_id": 1}):
            self._delete(older["_id"])

    def get(self, key: str) -> bytes | None:
        """The newest revision's bytes, or None when there is none. A read that races a delete (the chunks go
        while they are read) is None, the key being gone; one that races a replacement reads the new revision."""
        name = _checked(key)
        for _ in range(_READ_ATTEMPTS):
            try:
                with self._bucket.open_download_stream_by_name(name) as stream:
                    return bytes(stream.read())
            except NoFile:
                return None
            except CorruptGridFile:
                if self._files.find_one({"filename": name}, {"_id": 1}) is None:
                    return None  # deleted while it was read
        raise CorruptGridFile(f"file {name!r} kept changing while it was read")

    def delete(self, key: str) -> None:
        name = _checked(key)
        for stored in list(self._files.find({"filename": name}, {"_id": 1})):
            self._delete(stored["_id"])

    def _delete(self, file_id: Any) -> None:
        try:
            self._bucket.delete(file_id)
        except NoFile:
            return  # another process removed it first


def _checked(key: str) -> str:
    if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValidationFailed("a file key is '/'-joined segments of letters, digits, '_' and '-'", field="key")
    return key
