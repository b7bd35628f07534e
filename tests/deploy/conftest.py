"""Fixtures of the deployment tests."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool's path (Debian's `prometheus` package; `scripts/test.sh` installs it as root). Without it the
    tests that need it fail in CI (CI=true) and are skipped, with the reason, elsewhere."""
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (apt-get install prometheus; scripts/test.sh does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path
