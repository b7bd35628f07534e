"""`crm serve`: the API and web pages on granian (an ASGI server in Rust), N worker processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.context import container, out
from entrypoints.logs import granian_logging

APP_FACTORY = "entrypoints.http.app:create_app"


def serve(
    host: Annotated[str, typer.Option(help="The address the server listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port the server listens on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="How many worker processes serve requests.")] = 1,
    reload: Annotated[
        bool, typer.Option("--reload", help="Development: restart the workers when a source file changes.")
    ] = False,
) -> None:
    """Run the API (embedded default when nothing is configured). Any number of workers share the store."""
    from granian import Granian
    from granian.constants import Interfaces

    from entrypoints.settings import Settings

    # The workers' own files in the data directory (metric samples) are their owner's only (SPEC §5).
    os.umask(os.umask(0o077) | 0o077)
    # Before anything imports prometheus_client (the container's metered ports do): it picks multi-process
    # samples once, when imported, and the forked workers inherit that choice.
    _prometheus_multiprocess(Settings().data_dir / "prometheus")
    # Build once in the parent: settings are checked, the store created and migrated, the dev JWT secret
    # written, before any worker starts (workers then build their own container from the same environment).
    c = container()
    c.maintenance.check()  # e.g. MongoDB standalone or without indexes: refused now, in one line
    os.environ.setdefault("CRM_DATA_DIR", str(c.settings.data_dir))
    out.print(f"serving on http://{host}:{port} with {workers} worker(s); store: {_describe(c.settings)}")
    Granian(
        APP_FACTORY,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
        backlog=2048,
        respawn_failed_workers=True,
        log_access=False,  # the app writes the access log, in the one schema (entrypoints.logs)
        log_dictconfig=granian_logging(c.settings.log_level),
        reload=reload,
        reload_paths=_source_paths() if reload else None,
        reload_ignore_worker_failure=reload,
    ).serve()


def _source_paths() -> list[Path]:
    """What `--reload` watches (granian's reloader: the `granian[reload]` extra, watchfiles): the source packages,
    wherever they are imported from (a bind mount in docker-compose.override.yml)."""
    import entrypoints

    return [Path(entrypoints.__file__).resolve().parents[1]]


def _prometheus_multiprocess(default_dir: Path) -> None:
    """Workers write their metric samples to one directory so a scrape of any worker counts all of them. The
    directory is emptied at start: samples of an earlier run would otherwise be added to this run's counters."""
    path = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(default_dir)))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def _describe(settings: object) -> str:
    from entrypoints.settings import Settings

    assert isinstance(settings, Settings)
    url = settings.redacted()["database_url"]
    return str(url)
