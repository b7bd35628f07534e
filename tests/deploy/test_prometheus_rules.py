"""The alert rules (`deploy/prometheus/alerts.yml`): valid for Prometheus, unit-tested with `promtool test rules`
(every alert fires on a series that should fire it and stays quiet on one that should not), and documented in
docs/operations.md. promtool comes from Debian's `prometheus` package; `scripts/test.sh` installs it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
SEVERITIES = {"critical", "warning", "info"}


def run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_the_rule_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not() -> None:
    cases: dict[str, set[bool]] = {}
    for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in test["alert_rule_test"]:
            cases.setdefault(check["alertname"], set()).add(bool(check.get("exp_alerts")))
    assert {rule["alert"]: {True, False} for rule in rules()} == cases


def test_the_unit_tests_catch_an_alert_that_never_fires_or_always_fires(promtool: str, tmp_path: Path) -> None:
    """Each rule in turn replaced by one that never fires, then by one that always fires: its cases fail."""
    unit_tests = yaml.safe_load(RULE_TESTS.read_text())
    for name in [rule["alert"] for rule in rules()]:
        own_cases = [t for t in unit_tests["tests"] if {c["alertname"] for c in t["alert_rule_test"]} == {name}]
        (tmp_path / RULE_TESTS.name).write_text(yaml.safe_dump({**unit_tests, "tests": own_cases}))
        for broken in ("vector(1) > 2", "vector(1)"):
            document = yaml.safe_load(RULES.read_text())
            for group in document["groups"]:
                for rule in group["rules"]:
                    if rule["alert"] == name:
                        rule["expr"] = broken
            (tmp_path / RULES.name).write_text(yaml.safe_dump(document))
            result = run(promtool, "test", "rules", tmp_path / RULE_TESTS.name)
            assert result.returncode != 0, f"{name} as {broken!r} passed its tests"


def test_every_rule_waits_has_a_severity_and_points_to_the_runbook() -> None:
    text = OPERATIONS.read_text()
    anchors = {_anchor(line) for line in text.splitlines() if line.startswith("#")}
    table_rows = {line.split("|")[1].strip(" `") for line in text.splitlines() if line.startswith("| `Crm")}
    for rule in rules():
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert (page, anchor in anchors) == ("docs/operations.md", True), rule["annotations"]["runbook_url"]
        assert rule["alert"] in table_rows, f"{rule['alert']} is not in the alerts table of docs/operations.md"
    assert table_rows == {rule["alert"] for rule in rules()}


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    title = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
