"""What the HTTP app gets from the composition root besides the use cases: the write path of the hot use cases
and the response-cache store, each chosen for the configured store. Litestar and anyio are imported when an app
asks, not when the command line bootstraps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.sqlite.store import SqliteStore
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.services.context import ServiceContext
from entrypoints.ports import Writes
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from litestar.stores.base import Store


def writes_for(store: UnitOfWorkFactory, ctx: ServiceContext) -> Writes:
    """A new write path (one per app, i.e. per worker process): on the embedded SQLite store the reads inline
    and the writes batched on the event loop (`adapters.sqlite.loop_writer`, decision 0009); on any other store
    the whole use case in a worker thread."""
    from adapters.metrics.store import commit_timer
    from adapters.sqlite.loop_writer import LoopWriter
    from entrypoints.http.writes import ThreadWrites

    return LoopWriter(store, commit_timer("sqlite")) if isinstance(store, SqliteStore) else ThreadWrites(ctx)


def response_cache_store(settings: Settings) -> Store:
    """A new store for cached responses (and the catalogue version): in Redis whenever `CRM_REDIS_URL` is set
    (every pod); else in-process for the in-memory store of tests; else files in the data directory, shared by
    every worker process on this machine."""
    from litestar.stores.memory import MemoryStore

    if settings.redis_url:
        from adapters.redis.cache import redis_response_store

        return redis_response_store(settings.redis_url)
    if settings.effective_database_url.startswith("memory://"):
        return MemoryStore()
    from adapters.files.response_cache import InlineReadFileStore
    from adapters.owner_only import owner_only_dir

    return InlineReadFileStore(owner_only_dir(settings.data_dir / "response-cache"))  # its files: mkstemp, 0600
