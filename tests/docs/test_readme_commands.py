"""The README can be followed as written (issue 14): every command of its code blocks runs, in order, on a fresh
data directory and exits 0 — except the few in `SKIPPED`, each with the reason — and the API walkthrough
("Trying the API") runs as one bash script against a real `crm serve` on a free port, with a fresh idempotency key
and a token refresh."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
WALKTHROUGH = "## Trying the API"

#: Commands not run here, and why. A key that matches no README command fails the test (no stale skips).
SKIPPED = {
    "bash scripts/serve.sh": "serves until stopped; the walkthrough test starts `crm serve`, and its demo seed is "
    "`crm demo seed --if-empty`, run from the command list",
    "bash scripts/test.sh": "the whole test suite, this test among it",
    ".venv/bin/crm worker": "runs until stopped; `crm worker --once` is the same delivery, run once",
}

pytestmark = pytest.mark.slow  # real `crm` processes and a real server


def blocks() -> list[tuple[str, str]]:
    """(section heading, code) of each bash block, in the README's order."""
    found, heading = [], ""
    for match in re.finditer(r"^(## [^\n]+)$|^```bash\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL):
        if match.group(1):
            heading = match.group(1)
        else:
            found.append((heading, match.group(2)))
    return found


def commands(code: str) -> list[str]:
    """The block's commands: continuation lines joined, comment lines and blank lines left out."""
    joined = code.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def without_comment(command: str) -> str:
    return re.sub(r"\s+#.*$", "", command).strip()


def local(script: str) -> str:
    """The README's `.venv/bin/` is this interpreter's bin directory (the same in CI, where test.sh made .venv)."""
    return script.replace(".venv/bin/", f"{BIN}/")


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    return {**env, "CRM_DATA_DIR": str(data_dir), "COLUMNS": "200", **extra}


def run(script: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", local(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_readme_has_the_blocks_this_test_reads() -> None:
    headings = [heading for heading, _ in blocks()]
    assert headings.count(WALKTHROUGH) == 1
    assert len(headings) >= 4


def test_every_readme_command_runs_in_order_on_a_fresh_data_directory(tmp_path: Path) -> None:
    env = environment(tmp_path / "crm-data")
    skipped_seen: set[str] = set()
    ran = []
    for heading, code in blocks():
        if heading == WALKTHROUGH:
            continue
        for command in commands(code):
            bare = without_comment(command)
            if bare in SKIPPED:
                skipped_seen.add(bare)
                continue
            result = run(bare, env)
            assert result.returncode == 0, f"{command!r} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
            ran.append(bare)
    assert skipped_seen == set(SKIPPED), f"skip-list entries the README no longer has: {set(SKIPPED) - skipped_seen}"
    assert any("crm erp sync" in c for c in ran) and any("crm demo seed" in c for c in ran)


def test_the_api_walkthrough_runs_against_a_real_server(tmp_path: Path) -> None:
    (walkthrough,) = [code for heading, code in blocks() if heading == WALKTHROUGH]
    assert "8000}" in walkthrough and "Idempotency-Key: $KEY" in walkthrough and "/auth/refresh" in walkthrough
    server = Server(tmp_path / "crm-data", workers=1)
    server.env = environment(server.data_dir)  # the README's defaults: SMS to DATA_DIR/sms.jsonl
    seeded = run(".venv/bin/crm demo seed --if-empty", server.env)
    assert seeded.returncode == 0, seeded.stderr
    server.start()
    try:
        env = {**server.env, "CRM_PORT": str(server.port)}
        first = run(walkthrough, env)
        assert first.returncode == 0, first.stdout + first.stderr
        second = run(walkthrough, env)  # a rerun places a new order: the key is fresh each time
        assert second.returncode == 0, second.stdout + second.stderr
    finally:
        server.stop()
    for result in (first, second):
        assert re.search(r"^SO-\d{4}-\d{6} submitted pending$", result.stderr, re.MULTILINE), result.stderr
        assert re.search(r"^confirmed synced SBX-\d{7}$", result.stdout, re.MULTILINE), result.stdout
        assert "the CRM order is invoiced" in result.stdout
    numbers = [re.findall(r"SO-\d{4}-\d{6}", r.stderr)[0] for r in (first, second)]
    assert numbers[0] != numbers[1]
