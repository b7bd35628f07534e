"""FileStore adapters (order attachments): a local directory; GridFS joins with the MongoDB store."""

from adapters.files.local import LocalFileStore

__all__ = ["LocalFileStore"]
