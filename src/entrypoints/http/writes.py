"""The write path of the use cases split into reads and a write (`Write`, e.g. `OrderService.plan_create`) on
stores other than the embedded SQLite one: the whole use case in a worker thread, since its reads and writes may
wait on the network. (On SQLite, `adapters.sqlite.loop_writer` batches the writes on the event loop instead; the
composition root chooses, see `entrypoints.ports.Writes`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from crm_domain.services.context import ServiceContext, Write

T = TypeVar("T")


class ThreadWrites:
    """Plan and write in a worker thread, the write through `ServiceContext.finish` with its retries."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    async def perform(self, plan: Callable[[], T | Write[T]]) -> T:
        def run() -> T:
            planned = plan()
            return self._ctx.finish(planned) if isinstance(planned, Write) else planned

        return await anyio.to_thread.run_sync(run)
