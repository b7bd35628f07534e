"""Integration tests drive the CLI as its own suite does: its fixtures are shared from there."""

from __future__ import annotations

from tests.cli.conftest import crm_cli, data_dir

__all__ = ["crm_cli", "data_dir"]
