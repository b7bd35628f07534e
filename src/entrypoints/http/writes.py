"""How a handler runs a use case that is split into reads and a write (`Write`, e.g.
`OrderService.plan_create`): on the embedded SQLite store, reads inline and the write batched on the event loop
(`adapters.sqlite.loop_writer`, decision 0009); on any other store, the whole use case in a worker thread, since
its reads and writes may wait on the network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import anyio.to_thread

from adapters.sqlite.loop_writer import LoopWriter
from adapters.sqlite.store import SqliteStore
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.services.context import ServiceContext, Write

T = TypeVar("T")


class Writes(Protocol):
    async def perform(self, plan: Callable[[], T | Write[T]]) -> T:
        """Run `plan` (the reads; it returns the answer, or the `Write` still to run) and then its write."""
        ...


class ThreadWrites:
    """Plan and write in a worker thread, the write through `ServiceContext.finish` with its retries."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def perform(self, plan: Callable[[], T | Write[T]]) -> T:
        def run() -> T:
            planned = plan()
            return self._ctx.finish(planned) if isinstance(planned, Write) else planned

        return await anyio.to_thread.run_sync(run)


def writes_for(store: UnitOfWorkFactory, ctx: ServiceContext) -> Writes:
    return LoopWriter(store) if isinstance(store, SqliteStore) else ThreadWrites(ctx)
