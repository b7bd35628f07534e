"""The MongoDB adapters (production): the store (`MongoStore`) and order attachments in GridFS."""

from adapters.mongo.files import GridFsFileStore
from adapters.mongo.store import MongoStore

__all__ = ["GridFsFileStore", "MongoStore"]
