"""`crm worker --heartbeat PATH` touches PATH after every pass, so a health check can read its age (the compose
file's worker health check): a running worker keeps it fresh; a stopped one lets it age."""

from __future__ import annotations

import stat

import pytest

from tests.worker.conftest import Site, stop_gracefully, wait_until

pytestmark = pytest.mark.slow  # a real `crm worker`


def test_the_heartbeat_file_is_touched_after_every_pass(site: Site) -> None:
    beat = site.data_dir.parent / "worker-heartbeat"
    site.place_orders(1)
    worker = site.start_worker("--poll", "0.05", "--heartbeat", str(beat))
    wait_until(beat.exists, 30, "the first heartbeat")
    first = beat.stat().st_mtime_ns
    wait_until(lambda: beat.stat().st_mtime_ns > first, 10, "a later heartbeat")
    assert stop_gracefully(worker) == 0
    assert stat.S_IMODE(beat.stat().st_mode) == 0o600
