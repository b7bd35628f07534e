from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from entrypoints.cli.context import container
from entrypoints.cli.main import main


@attrs.frozen
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh embedded store for each test; the CLI's cached container is rebuilt around it."""
    for name in ("CRM_DATABASE_URL", "CRM_ENV", "CRM_JWT_SECRET", "CRM_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "crm-data"))
    monkeypatch.setenv("COLUMNS", "200")
    container.cache_clear()
    yield tmp_path / "crm-data"
    container.cache_clear()


@pytest.fixture
def crm_cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
