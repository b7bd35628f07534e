"""Shared fixtures: a `Crm` on the in-memory store with a fixed clock and predictable ids."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.services.context import ServiceContext
from tests.redis_server import redis_cluster_url, redis_prefix, redis_server_factory, redis_url

__all__ = ["redis_cluster_url", "redis_prefix", "redis_server_factory", "redis_url"]  # fixtures for every test

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def crm(clock: FixedClock) -> Crm:
    ids = SequentialIds()  # one sequence for the services and the outbox messages the store writes
    return Crm(ServiceContext(uow=MemoryStore(ids=ids), clock=clock, ids=ids, mobiles=PhonenumbersNormaliser()))


def pytest_report_header() -> list[str]:
    """Say which MongoDB the Mongo adapter tests ran against (SPEC §10)."""
    from tests import mongo

    return [mongo.describe()]
