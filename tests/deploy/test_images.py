"""The image (`Dockerfile`) and its lock file, checked by parsing them (no Docker engine): a multi-stage build that
installs exactly `requirements.lock` with hashes, a non-root runtime with the uid the Kubernetes manifests run
as, and a HEALTHCHECK that works without curl (run here against a real `crm serve`); the lock in step with
pyproject.toml (regenerate it with `bash scripts/lock.sh`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.e2e.conftest import Server, server_factory

__all__ = ["server_factory"]  # fixture

ROOT = Path(__file__).resolve().parents[2]
RERUN = "requirements.lock is out of step with pyproject.toml: run `bash scripts/lock.sh` and commit the result"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> dict[str, list[tuple[str, str]]]:
    named: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, args in instructions():
        if keyword == "FROM":
            image, _, name = args.partition(" AS ")
            current = named.setdefault(name.strip(), [("FROM", image.strip())])
        else:
            current.append((keyword, args))
    return named


def locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock: name → (version, hashes)."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = (ROOT / "requirements.lock").read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.split("\\", 1)[0].split(";", 1)[0].strip()
        if "==" not in head:
            continue
        name, version = head.split("==")
        entries[str(canonicalize_name(name))] = (version.strip(), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


class TestDockerfile:
    def test_two_stages_on_a_pinned_python(self) -> None:
        built = stages()
        assert list(built) == ["build", "runtime"]
        assert {s[0][1] for s in built.values()} == {"python:3.11-slim"}
        runtime = dict(built["runtime"])
        assert runtime["COPY"].startswith("--from=build /opt/crm /opt/crm")
        assert not any(k == "RUN" and "pip install" in a for k, a in built["runtime"])  # nothing resolved there

    def test_dependencies_come_only_from_the_lock_with_hashes(self) -> None:
        runs = [a for k, a in stages()["build"] if k == "RUN" and "pip install" in a]
        locked_install, project_install = runs[0], runs[1]
        assert "--require-hashes" in locked_install and "--no-deps" in locked_install
        assert "-r requirements.lock" in locked_install
        assert "--no-deps" in project_install  # the project's own wheel adds no unlocked dependency
        assert "pip check" in project_install

    def test_the_runtime_runs_as_the_non_root_user_the_manifests_expect(self) -> None:
        runtime = stages()["runtime"]
        [user] = [a for k, a in runtime if k == "USER"]
        assert user == "10001:10001"
        manifest = (ROOT / "deploy" / "k8s" / "base" / "api-deployment.yaml").read_text()
        assert "runAsUser: 10001" in manifest and "runAsGroup: 10001" in manifest
        assert [k for k, _ in runtime].index("USER") > max(i for i, (k, _) in enumerate(runtime) if k == "RUN")
        assert dict(runtime)["CMD"].startswith('["crm", "serve", "--host", "0.0.0.0", "--port", "8000"')

    def test_the_healthcheck_probes_liveness_with_python_alone(self, server_factory: Callable[..., Server]) -> None:
        [check] = [a for k, a in stages()["runtime"] if k == "HEALTHCHECK"]
        argv = json.loads(check[check.index("CMD") + 3 :].strip())
        assert argv[:2] == ["python", "-c"] and "http://127.0.0.1:8000/health/live" in argv[2]
        server = server_factory(workers=1)
        server.start()
        against = argv[2].replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")

        up = subprocess.run([sys.executable, "-c", against], capture_output=True, check=False)
        server.stop()
        down = subprocess.run([sys.executable, "-c", against], capture_output=True, check=False)

        assert (up.returncode, down.returncode != 0) == (0, True), up.stderr


class TestLockFile:
    def test_every_dependency_of_pyproject_is_pinned_within_its_range(self) -> None:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        lock = locked()
        for line in project["dependencies"]:
            wanted = Requirement(line)
            name = str(canonicalize_name(wanted.name))
            assert name in lock, f"{wanted.name} is not in the lock. {RERUN}"
            assert wanted.specifier.contains(lock[name][0], prereleases=True), f"{line} vs {lock[name][0]}. {RERUN}"
            for extra in wanted.extras:  # granian[reload] brings watchfiles
                assert extra != "reload" or "watchfiles" in lock, RERUN

    def test_every_pinned_package_carries_hashes(self) -> None:
        lock = locked()
        assert len(lock) >= 20
        assert all(len(hashes) >= 1 for _, hashes in lock.values()), RERUN

    def test_the_lock_is_regenerated_by_the_script(self) -> None:
        script = (ROOT / "scripts" / "lock.sh").read_text()
        assert "pip compile pyproject.toml" in script and "--generate-hashes" in script
        assert (ROOT / "requirements.lock").read_text().startswith("# Generated by scripts/lock.sh")
