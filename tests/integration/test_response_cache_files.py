"""The response cache's file store on the embedded configuration: Litestar's `FileStore`, its reads made in the
event loop (no hop to a worker thread), with the same answers for stored, missing, overwritten and expired keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio.to_thread
import pytest

from adapters.files.response_cache import InlineReadFileStore


def test_values_round_trip_and_a_missing_key_is_none(tmp_path: Path) -> None:
    store = InlineReadFileStore(tmp_path)

    async def scenario() -> None:
        await store.set("catalogue:version", b"v1")
        await store.set("catalogue:version", "v2")
        assert await store.get("catalogue:version") == b"v2"
        assert await store.get("nothing-here") is None

    asyncio.run(scenario())


def test_an_expired_value_is_gone(tmp_path: Path) -> None:
    store = InlineReadFileStore(tmp_path)

    async def scenario() -> None:
        await store.set("answer", b"{}", expires_in=1)
        assert await store.get("answer") == b"{}"
        await asyncio.sleep(1.1)
        assert await store.get("answer") is None
        assert not list(tmp_path.glob("answer*"))  # and its file removed

    asyncio.run(scenario())


def test_a_read_takes_no_worker_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = InlineReadFileStore(tmp_path)
    asyncio.run(store.set("answer", b"cached"))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a read went to a worker thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", refuse)
    assert asyncio.run(store.get("answer")) == b"cached"
