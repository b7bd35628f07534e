"""The development stack (`docker-compose.yml`, `Dockerfile`), checked by parsing them (no Docker engine): the
services SPEC §9 names, a MongoDB replica set that is initiated, and settings the app accepts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import typer.main
import yaml

from adapters.redis import parse_redis_url
from entrypoints.cli.main import app as cli
from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def cli_knows(*words: str) -> bool:
    command: Any = typer.main.get_command(cli)
    for word in words:
        if word not in getattr(command, "commands", {}):
            return False
        command = command.commands[word]
    return True


def test_the_services_of_the_stack(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"mongo", "mongo-init", "redis", "db-init", "api", "worker"}


def test_mongodb_is_a_replica_set_that_gets_initiated(compose: dict[str, Any]) -> None:
    mongo, init = compose["services"]["mongo"], compose["services"]["mongo-init"]
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    script = init["command"][-1]
    assert 'rs.initiate({_id: "rs0", members: [{_id: 0, host: "mongo:27017"}]})' in script
    assert init["depends_on"]["mongo"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", ["db-init", "api", "worker"])
def test_the_crm_processes_are_configured_for_mongodb_and_redis(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["build"] == "."
    env = spec["environment"]
    database = urlsplit(env["CRM_DATABASE_URL"])
    assert database.scheme == "mongodb" and database.hostname in compose["services"]
    assert parse_qs(database.query)["replicaSet"] == ["rs0"]
    redis_target = parse_redis_url(env["CRM_REDIS_URL"])
    assert urlsplit(redis_target.url).hostname == "redis" and not redis_target.cluster
    settings = Settings(**{k.removeprefix("CRM_").lower(): v for k, v in env.items()})
    assert settings.redis_url == env["CRM_REDIS_URL"]
    assert cli_knows(*spec["command"][1:3]) if service == "db-init" else cli_knows(spec["command"][1])


def test_start_order_db_init_after_the_replica_set_and_the_processes_after_both(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["db-init"]["command"] == ["crm", "db", "init"]
    assert services["db-init"]["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["db-init"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["api"]["command"][:2] == ["crm", "serve"]
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["worker"]["command"][:2] == ["crm", "worker"]


def test_long_running_services_restart_and_one_shots_do_not(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {name: services[name].get("restart") for name in services} == {
        "mongo": "unless-stopped",
        "redis": "unless-stopped",
        "api": "unless-stopped",
        "worker": "unless-stopped",
        "mongo-init": "no",
        "db-init": "no",
    }


def test_the_worker_is_healthy_while_its_heartbeat_is_fresh(compose: dict[str, Any], tmp_path: Path) -> None:
    worker = compose["services"]["worker"]
    command = worker["command"]
    beat = command[command.index("--heartbeat") + 1]
    check = worker["healthcheck"]["test"]
    assert check[0] == "CMD" and check[1:3] == ["crm", "worker"] and "--check" in check
    assert check[check.index("--heartbeat") + 1] == beat  # the file the worker touches
    local = tmp_path / "heartbeat"
    argv = [str(Path(sys.executable).parent / "crm"), *[str(local) if a == beat else a for a in check[2:]]]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    missing = run()
    local.touch()
    fresh = run()
    os.utime(local, (time.time() - 601, time.time() - 601))
    stale = run()

    assert (missing.returncode, fresh.returncode, stale.returncode) == (1, 0, 1), (missing, fresh, stale)
    assert "worker unhealthy: no heartbeat" in missing.stderr
    assert "worker healthy" in fresh.stdout
    assert "s ago (more than 600 s)" in stale.stderr


@pytest.fixture(scope="module")
def override() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.override.yml").read_text()))


def test_the_development_override_mounts_the_source_and_reloads(override: dict[str, Any]) -> None:
    api = override["services"]["api"]
    assert api["command"][:2] == ["crm", "serve"] and "--reload" in api["command"]
    assert cli_knows("serve")
    for name, service in override["services"].items():
        [mount] = service["volumes"]
        source, target, mode = mount.split(":")
        assert (ROOT / source).resolve() == ROOT / "src" and mode == "ro", name
        assert service["environment"]["PYTHONPATH"] == target, name  # the mounted source before the installed one
