"""Issue 12 finding 6, SPEC §5: "data directory 0700, its files 0600". `crm.db` and `sandbox-erp.db` hold names,
mobiles, session ids and OTP hashes; the JWT secret, the development SMS and e-mail files, the response cache and
the attachments are no one else's business either. Whatever the process umask, everything the CRM creates under
its data directory is its owner's only, and a data directory left open by an older version is closed on start."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli.context import container
from entrypoints.settings import Settings
from tests.cli.conftest import Result, crm_cli, data_dir

__all__ = ["crm_cli", "data_dir"]  # the fixtures


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The usual umask, which leaves new files readable by every local user unless the code says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def too_open(root: Path) -> list[str]:
    """Every path under `root` (itself included) with a mode other than 0700 (directories) or 0600 (files)."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            found.append(f"{path.relative_to(root.parent)} {mode:o}")
    return found


def test_everything_serve_seed_and_the_worker_create_in_a_fresh_data_dir_is_the_owners_only(
    data_dir: Path, crm_cli: Callable[..., Result]
) -> None:
    assert not data_dir.exists()

    assert crm_cli("db", "init").code == 0
    assert crm_cli("users", "create-admin", "--mobile", "+919000000071", "--name", "Asha Admin").code == 0
    assert crm_cli("demo", "seed", "--months", "1", "--orders-per-month", "20").code == 0
    assert crm_cli("worker", "--once").code == 0
    c = container()
    c.files.put("orders/O-1/A-1", b"%PDF-1.4 a delivery note", "application/pdf")
    cache = c.response_cache()
    asyncio.run(cache.set("catalogue-version", b"7"))
    c.auth.request_otp("+919000000071", "127.0.0.1")  # the development SMS file

    names = {p.name for p in data_dir.rglob("*")}
    assert {"crm.db", "sandbox-erp.db", "jwt-secret", "sms.jsonl", "files", "response-cache"} <= names
    assert too_open(data_dir) == []


def test_a_data_dir_left_open_is_closed_on_start_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "crm-data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    secret = data / "jwt-secret"
    secret.write_text("s" * 48)
    os.chmod(secret, 0o644)
    settings = Settings(data_dir=data, database_url=None, jwt_secret=None)

    with caplog.at_level(logging.WARNING):
        bootstrap(settings).uow.close()  # type: ignore[attr-defined]
        bootstrap(settings).uow.close()  # type: ignore[attr-defined]

    assert too_open(data) == []
    said = [r for r in caplog.records if str(data) in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in caplog.records]


def test_a_data_dir_that_is_not_ours_to_narrow_is_said_and_the_app_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mounted volume owned by root (a Kubernetes emptyDir with fsGroup) cannot be chmod-ed by the app's user:
    that is a warning, not a start-up failure."""
    data = tmp_path / "crm-data"
    data.mkdir()
    os.chmod(data, 0o2775)
    real_chmod = os.chmod

    def chmod(path: object, mode: int, **kwargs: object) -> None:
        if Path(str(path)) == data:
            raise PermissionError(1, "Operation not permitted", str(path))
        real_chmod(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "chmod", chmod)
    settings = Settings(data_dir=data, database_url="memory://", jwt_secret=None)

    with caplog.at_level(logging.WARNING):
        container = bootstrap(settings)

    assert container.jwt_secret
    assert any("not ours to narrow" in r.getMessage() for r in caplog.records)
