"""Security tests (issue 12) drive the same doors as the other suites: the unit world (library), the API app on
both configurations, and the CLI; their fixtures are shared from those suites' conftest modules."""

from __future__ import annotations

from tests.api.conftest import api
from tests.cli.conftest import crm_cli, data_dir
from tests.unit.conftest import world

__all__ = ["api", "crm_cli", "data_dir", "world"]
