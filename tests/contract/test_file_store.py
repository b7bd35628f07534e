"""FileStore: round trips, overwrite, missing keys, delete, and keys that try to escape the store.

A new adapter (GridFS, …) joins by adding one parameter to `FILE_STORES` and one branch to `file_store`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.files import LocalFileStore
from adapters.mongo import GridFsFileStore
from crm_domain.errors import ValidationFailed
from crm_domain.ports import FileStore
from tests import mongo

FILE_STORES = ["local", pytest.param("gridfs", id=f"gridfs-{mongo.MODE}")]
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(params=FILE_STORES)
def file_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStore]:
    """A fresh, empty file store."""
    if request.param == "local":
        yield LocalFileStore(tmp_path / "files")
    elif request.param == "gridfs":
        with mongo.fresh_database() as (client, name):
            yield GridFsFileStore(client[name])
    else:  # pragma: no cover
        raise AssertionError(f"unknown adapter {request.param}")


class TestRoundTrip:
    def test_get_returns_the_bytes_put(self, file_store: FileStore) -> None:
        file_store.put("orders/O-1/A-1", PDF, "application/pdf")

        assert file_store.get("orders/O-1/A-1") == PDF

    def test_every_byte_value_and_the_empty_file_survive(self, file_store: FileStore) -> None:
        every_byte = bytes(range(256)) * 64
        file_store.put("blobs/all", every_byte, "application/octet-stream")
        file_store.put("blobs/empty", b"", "application/octet-stream")

        assert file_store.get("blobs/all") == every_byte
        assert file_store.get("blobs/empty") == b""

    def test_put_replaces_what_was_there(self, file_store: FileStore) -> None:
        file_store.put("orders/O-1/A-1", b"first version, longer than the second", "text/plain")
        file_store.put("orders/O-1/A-1", b"second", "text/plain")

        assert file_store.get("orders/O-1/A-1") == b"second"

    def test_a_missing_key_is_none(self, file_store: FileStore) -> None:
        file_store.put("orders/O-1/A-1", PDF, "application/pdf")

        assert file_store.get("orders/O-1/A-2") is None
        assert file_store.get("orders/O-2/A-1") is None
        assert file_store.get("orders/O-1") is None

    def test_keys_are_independent_even_when_one_is_a_prefix_of_another(self, file_store: FileStore) -> None:
        file_store.put("a/b", b"short", "text/plain")
        file_store.put("a/b/c", b"long", "text/plain")
        file_store.put("a_b", b"flat", "text/plain")

        assert (file_store.get("a/b"), file_store.get("a/b/c"), file_store.get("a_b")) == (b"short", b"long", b"flat")


class TestDelete:
    def test_delete_removes_only_that_key(self, file_store: FileStore) -> None:
        file_store.put("orders/O-1/A-1", b"one", "text/plain")
        file_store.put("orders/O-1/A-2", b"two", "text/plain")

        file_store.delete("orders/O-1/A-1")

        assert file_store.get("orders/O-1/A-1") is None
        assert file_store.get("orders/O-1/A-2") == b"two"

    def test_deleting_a_missing_key_is_a_no_op(self, file_store: FileStore) -> None:
        file_store.delete("orders/O-9/A-9")

        assert file_store.get("orders/O-9/A-9") is None

    def test_a_key_can_be_written_again_after_delete(self, file_store: FileStore) -> None:
        file_store.put("k", b"old", "text/plain")
        file_store.delete("k")
        file_store.put("k", b"new", "text/plain")

        assert file_store.get("k") == b"new"


TRICKS = [
    "../outside",
    "orders/../../etc/passwd",
    "orders/..",
    "..",
    ".",
    "/etc/passwd",
    "//server/share",
    "orders\\O-1",
    "..\\..\\windows",
    "orders//A-1",
    "orders/O-1/",
    "",
    "orders/O-1/A-1.pdf",
    "orders/O-1/A 1",
    "orders/O-1/A-1\n",
    "orders/O-1/A-1\x00",
    "C:/windows",
    "~/secrets",
    "orders/Ö-1",
    "x" * 600,
]


class TestKeysThatTryToEscape:
    @pytest.mark.parametrize("key", TRICKS)
    def test_put_refuses_the_key_and_writes_nothing(self, file_store: FileStore, key: str, tmp_path: Path) -> None:
        before = _files_under(tmp_path)

        with pytest.raises(ValidationFailed) as raised:
            file_store.put(key, b"payload", "text/plain")

        assert raised.value.field == "key"
        assert _files_under(tmp_path) == before

    @pytest.mark.parametrize("key", TRICKS)
    def test_get_and_delete_refuse_the_key(self, file_store: FileStore, key: str) -> None:
        with pytest.raises(ValidationFailed):
            file_store.get(key)
        with pytest.raises(ValidationFailed):
            file_store.delete(key)


class TestLocalDirectory:
    """What only the local adapter can show: where the bytes land, and that a failed write leaves no trace."""

    def test_files_stay_under_the_root(self, tmp_path: Path) -> None:
        store = LocalFileStore(tmp_path / "root")
        store.put("orders/O-1/A-1", PDF, "application/pdf")

        written = _files_under(tmp_path)
        assert written == {tmp_path / "root" / "orders" / "O-1" / "A-1.bin"}

    def test_a_failed_write_keeps_the_old_bytes_and_leaves_no_temporary_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = LocalFileStore(tmp_path / "root")
        store.put("orders/O-1/A-1", b"old bytes", "text/plain")

        def broken_replace(src: str, dst: str) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(OSError, match="disk full"):
            store.put("orders/O-1/A-1", b"new bytes", "text/plain")
        monkeypatch.undo()

        assert store.get("orders/O-1/A-1") == b"old bytes"
        assert _files_under(tmp_path) == {tmp_path / "root" / "orders" / "O-1" / "A-1.bin"}


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}
