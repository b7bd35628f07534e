"""Files and directories only their owner may read (SPEC §5: the data directory 0700, its files 0600). The data
directory holds names, mobiles, session ids, OTP hashes and the JWT secret. Modes are set explicitly, so they do
not depend on the process umask.

SQLite creates a database's `-wal`, `-shm` and `-journal` files with the mode of the database file, so a database
created here first (`owner_only_file`) keeps its companions private too."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import Final

log = logging.getLogger("crm.files")

DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_OTHERS: Final = 0o077  # group and world bits
_SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")


def owner_only_dir(path: Path) -> Path:
    """`path` as a directory; what is missing of it (parents too) is created 0700. An existing one is left as
    it is (it may be a shared parent such as the working directory; `close_data_dir` closes the data dir)."""
    missing: list[Path] = []
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it just now (and set its mode)
            continue
        os.chmod(directory, DIR_MODE)
    return path


def owner_only_file(path: Path) -> Path:
    """`path` as a file only its owner may read: created empty (0600) when missing, narrowed when wider.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX lock the process
    holds on it, so opening and closing a SQLite database that this process already has open would drop its
    SQLite locks; another process's last connection then takes the database for unused and deletes its WAL
    file under our feet (the writes that follow are lost)."""
    owner_only_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if path.stat().st_mode & _OTHERS:
            os.chmod(path, FILE_MODE)
        return path
    os.close(fd)  # just created by us: no connection of this process holds it yet
    return path


def owner_only_database(path: Path) -> Path:
    """A SQLite database file made (or narrowed to) 0600 before SQLite opens it, with any companion files
    (`-wal`, `-shm`, `-journal`) an older version left wider."""
    owner_only_file(path)
    for suffix in _SQLITE_COMPANIONS:
        _narrow(path.with_name(path.name + suffix), FILE_MODE)
    return path


def close_data_dir(path: Path) -> bool:
    """Narrow a data directory that is open to others (an older version made it 0755, its files 0644) to 0700,
    and everything in it to 0700 / 0600; logged once (a closed directory is not narrowed again). True when it
    was open. A data directory that does not exist yet is left for the first writer to create; one owned by
    another user (a mounted volume) is left as it is, with a warning."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if not mode & _OTHERS:
        return False
    try:
        os.chmod(path, DIR_MODE)
    except PermissionError:  # e.g. a Kubernetes emptyDir owned by root with fsGroup: a pod's own volume anyway
        log.warning(
            "data directory %s is open to other users (mode %o) and not ours to narrow; make it 0700", path, mode
        )
        return False
    narrowed = 0
    for root, dirs, files in os.walk(path):
        narrowed += sum(_narrow(Path(root, name), DIR_MODE) for name in dirs)
        narrowed += sum(_narrow(Path(root, name), FILE_MODE) for name in files)
    log.warning(
        "data directory %s was open to other users (mode %o): narrowed to 0700, and %d entries in it to 0700/0600",
        path,
        mode,
        narrowed,
    )
    return True


def _narrow(path: Path, mode: int) -> bool:
    """Take group and world access off `path` (not following links); True when it had some."""
    with contextlib.suppress(FileNotFoundError, PermissionError):  # gone meanwhile, or another user's
        current = path.lstat()
        if not stat.S_ISLNK(current.st_mode) and stat.S_IMODE(current.st_mode) & _OTHERS:
            os.chmod(path, mode)
            return True
    return False
