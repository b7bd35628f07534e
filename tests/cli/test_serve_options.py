"""`crm serve` hands its options to granian: `--reload` (development, docker-compose.override.yml) turns on
granian's reloader watching the source packages; without it nothing is watched."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import granian
import pytest

import entrypoints
from tests.cli.conftest import Result

Cli = Callable[..., Result]


@pytest.fixture
def granian_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    """`crm serve` run in this process: what it sets for its workers (the metrics directory in the environment,
    the umask) is put back afterwards, so later tests and the servers they start do not inherit it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    umask = os.umask(0o022)
    os.umask(umask)

    class Recorded:
        def __init__(self, target: str, **options: Any) -> None:
            calls.append({"target": target, **options})

        def serve(self) -> None:
            """Serving is granian's business: the test only reads the options."""

    monkeypatch.setattr(granian, "Granian", Recorded)
    yield calls
    os.umask(umask)


def test_reload_watches_the_source_packages(crm_cli: Cli, granian_calls: list[dict[str, Any]]) -> None:
    result = crm_cli("serve", "--reload", "--port", "8123")

    assert result.code == 0, result.err
    [options] = granian_calls
    assert options["reload"] is True
    assert options["reload_paths"] == [Path(entrypoints.__file__).resolve().parents[1]]
    assert (options["reload_paths"][0] / "entrypoints" / "cli" / "serve.py").is_file()
    import watchfiles  # noqa: F401  # granian's reloader needs it (the granian[reload] extra)


def test_without_reload_nothing_is_watched(crm_cli: Cli, granian_calls: list[dict[str, Any]]) -> None:
    assert crm_cli("serve", "--port", "8123").code == 0
    [options] = granian_calls
    assert (options["reload"], options["reload_paths"], options["workers"]) == (False, None, 1)
