"""Unit-test fixtures: a realistic world (see world.py) on the `crm` and `clock` fixtures of tests/conftest.py."""

from __future__ import annotations

import pytest

from adapters.system import FixedClock
from crm_domain.app import Crm
from tests.unit.world import World, build_world


@pytest.fixture
def world(crm: Crm, clock: FixedClock) -> World:
    return build_world(crm, clock)
