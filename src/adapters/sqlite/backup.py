"""Online backup and offline restore of the embedded store (`crm db backup`, `crm db restore`).

A backup is SQLite's online backup API copying every page in one step under one read transaction: in WAL mode
writers go on meanwhile, and the copy is the database as of the moment that transaction began — every commit
acknowledged before it, nothing half done. It is written to a temporary file beside the target (0600) and
renamed into place, so a target path never holds a partial copy.

A restore replaces the store with a backup: only while no process has the store open (a running API or worker
keeps products and customers cached by table version and its connections mapped onto the old file's WAL index),
only from a file that is a crm database of a schema this build can run, atomically (rename), and it keeps the
store it replaces as `crm.db.bak` (itself a consistent copy, with the WAL's commits in it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Final

import attrs

from adapters.owner_only import FILE_MODE, owner_only_dir
from adapters.sqlite import schema

#: Tables whose row counts a backup reports (what an operator checks a copy by).
COUNTED: Final = ("orders", "customers", "credit_reservations", "outbox", "users", "products")
#: Tables every crm database has had since the first migration.
REQUIRED: Final = frozenset({"orders", "customers", "credit_accounts", "credit_reservations", "outbox", "users"})
#: The byte of the `-shm` file on which every connection holds a shared lock (SQLite's unix VFS "DMS" lock:
#: (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK, with SQLITE_SHM_NLOCK = 8).
_SHM_DMS_BYTE: Final = 128


class BackupRefused(Exception):
    """A backup or restore that would lose or corrupt data, refused with the reason."""


@attrs.frozen(kw_only=True)
class Copied:
    """What a backup or restore wrote: the file, its size, schema version and row counts."""

    path: Path
    size: int
    schema_version: int
    rows: dict[str, int]
    kept: Path | None = None  # restore: where the replaced store was kept


def backup(source: Path, target: Path, *, force: bool = False) -> Copied:
    """Copy the store at `source` to `target` while processes keep using it."""
    if not source.is_file():
        raise BackupRefused(f"no SQLite store at {source}")
    if target.resolve() == source.resolve():
        raise BackupRefused("the backup must not be the store itself")
    if target.is_dir():
        raise BackupRefused(f"{target} is a directory; name the backup file")
    if target.exists() and not force:
        raise BackupRefused(f"{target} exists; pass --force to overwrite it")
    owner_only_dir(target.parent)
    staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _copy(source, staging)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    _fsync_dir(target.parent)
    return _describe(target)


def restore(source: Path, store: Path) -> Copied:
    """Replace the store at `store` with the backup `source`; the replaced store is kept as `<store>.bak`."""
    if not source.is_file():
        raise BackupRefused(f"no backup file at {source}")
    if store.exists() and source.resolve() == store.resolve():
        raise BackupRefused("the backup is the store itself")
    checked = _check_backup(source)
    if _in_use(store):
        raise BackupRefused(f"{store} is open in another process: stop the API and the worker first")
    owner_only_dir(store.parent)
    staging = store.with_name(f".{store.name}.{os.getpid()}.restoring")
    kept: Path | None = None
    try:
        _copy(source, staging)
        if store.exists():
            kept = store.with_name(store.name + ".bak")
            _copy(store, kept.with_name(kept.name + ".partial"))  # with the WAL's commits, consistent
            os.replace(kept.with_name(kept.name + ".partial"), kept)
        # A WAL left beside the new file would be replayed onto it: the old one goes first (it is in `kept`).
        for suffix in ("-wal", "-shm", "-journal"):
            store.with_name(store.name + suffix).unlink(missing_ok=True)
        os.replace(staging, store)
    finally:
        staging.unlink(missing_ok=True)
        if kept is not None:
            kept.with_name(kept.name + ".partial").unlink(missing_ok=True)
    _fsync_dir(store.parent)
    return attrs.evolve(_describe(store), kept=kept, schema_version=checked)


def _copy(source: Path, target: Path) -> None:
    """One-step online backup of `source` into a fresh 0600 file `target`, synced to disk."""
    target.unlink(missing_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    src = sqlite3.connect(source, timeout=10)  # read-write: a WAL store needs its -shm; it only reads
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # pages=-1: every page in one step, under one read transaction
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file; the store sets WAL on open
        finally:
            dst.close()
    finally:
        src.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_backup(path: Path) -> int:
    """The schema version of the crm database at `path`; refused when it is not one this build can run."""
    try:
        conn = sqlite3.connect(path)
        try:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = schema.schema_version(conn)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{path} is not a SQLite database ({exc})") from exc
    if not tables >= REQUIRED or version < 1:
        raise BackupRefused(f"{path} is not a crm database (no {', '.join(sorted(REQUIRED - tables)) or 'schema'})")
    if version > schema.SCHEMA_VERSION:
        raise BackupRefused(
            f"{path} has schema version {version}, newer than this build's {schema.SCHEMA_VERSION}: "
            "restore it with the release that wrote it"
        )
    if ok != "ok":
        raise BackupRefused(f"{path} fails SQLite's integrity check: {ok}")
    return version


def _in_use(store: Path) -> bool:
    """Whether another process has `store` open: every SQLite connection in WAL mode holds a shared lock on
    one byte of the `-shm` file for as long as it is open."""
    shm = store.with_name(store.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE, os.SEEK_SET)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE, os.SEEK_SET)
        return False
    finally:
        os.close(fd)


def _describe(path: Path) -> Copied:
    conn = sqlite3.connect(path)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED if t in tables}  # noqa: S608
        version = schema.schema_version(conn)
    finally:
        conn.close()
    return Copied(path=path, size=path.stat().st_size, schema_version=version, rows=rows)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be opened for sync
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
