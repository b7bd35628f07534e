"""The dashboard (`deploy/grafana/crm.json`) and the alert rules ask only for metrics the app really exports: the
names in their PromQL are checked against a scrape of `/metrics` from the app started in-process (the embedded
store, Litestar's test client) after a few orders, a release and a read, and against a scrape of the worker's
own `/metrics` (`CRM_WORKER_METRICS_PORT`) after it delivered them (job `crm-worker`)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.bootstrap import bootstrap, build_dispatcher
from entrypoints.cli.worker_metrics import serve_worker_metrics
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "crm.json"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_SERIES = {"up"}  # written by Prometheus for every scrape, not by the app
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def metric_selectors(expr: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every metric name a PromQL expression reads, with the label matchers of its selector (name → value)."""
    strings: list[str] = []

    def keep(match: re.Match[str]) -> str:
        strings.append(match.group(0)[1:-1])
        return f'"{len(strings) - 1}"'

    expr = re.sub(r'"(?:[^"\\]|\\.)*"', keep, expr)  # string contents cannot be mistaken for names
    expr = re.sub(r"\[[^\]]*\]", "", re.sub(GROUPING, "", expr))  # ranges, and label lists of by (…) & co
    for match in re.finditer(r"([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?", expr):
        name, matchers = match.group(1), match.group(2) or ""
        if (expr[match.end() :].lstrip().startswith("(") and not matchers) or name.lower() in KEYWORDS:
            continue  # a function or an aggregation, or an operator
        labels = re.findall(r'(\w+)\s*(?:=~|!~|!=|=)\s*"(\d+)"', matchers)
        yield name, {label: strings[int(index)] for label, index in labels}


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def rule_exprs() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


Scrape = dict[str, list[dict[str, str]]]


@pytest.fixture(scope="module")
def scrapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scrape]:
    """By job (`crm-api`, `crm-worker`): sample name → the label sets scraped for it, after orders of every
    result, a release and a read, then a worker pass that delivered them."""
    data = tmp_path_factory.mktemp("data")
    container = bootstrap(Settings(database_url="memory://", data_dir=data, jwt_secret="x" * 48))  # type: ignore[arg-type]
    with TestClient(create_app(container)) as client:
        api = Api(container, client, data / "sms.jsonl")
        api.order(api.rep, quantity="1")
        held = api.order(api.rep, quantity="25")
        draft = api.order(api.rep, quantity="1", submit=False)
        submitted = client.post(f"/api/v1/orders/{draft['id']}/submit", headers=api.login(api.rep))
        released = client.post(
            f"/api/v1/orders/{held['id']}/release", json={"note": "paid"}, headers=api.login(api.controller)
        )
        assert (submitted.status_code, released.status_code) == (200, 200)
        assert client.get("/api/v1/orders", headers=api.login(api.rep)).status_code == 200
        text = client.get("/metrics").text
    dispatcher = build_dispatcher(container)
    assert dispatcher.run_once(100).claimed > 0
    server = serve_worker_metrics(dispatcher, 0, host="127.0.0.1")
    try:
        worker_text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    return {"crm-api": _samples(text), "crm-worker": _samples(worker_text)}


def _samples(text: str) -> Scrape:
    samples: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(dict(sample.labels))
    return samples


@pytest.fixture(scope="module")
def exported(scrapes: dict[str, Scrape]) -> Scrape:
    """What either process exports."""
    merged: Scrape = {}
    for scrape in scrapes.values():
        for name, labels in scrape.items():
            merged.setdefault(name, []).extend(labels)
    return merged


def test_the_scrape_holds_the_http_and_business_metrics(scrapes: dict[str, Scrape]) -> None:
    assert {
        "crm_requests_total",
        "crm_request_duration_seconds_bucket",
        "crm_request_duration_seconds_sum",
        "crm_request_duration_seconds_count",
        "crm_orders_total",
        "crm_credit_hold_decisions_total",
        "crm_outbox_messages",
        "crm_outbox_dead_letters",
        "crm_outbox_oldest_pending_age_seconds",
        "crm_sign_in_codes_total",
        "crm_store_commit_duration_seconds_bucket",
    } <= set(scrapes["crm-api"])


def test_the_worker_scrape_holds_the_erp_breaker_and_notification_metrics(scrapes: dict[str, Scrape]) -> None:
    worker = scrapes["crm-worker"]
    assert {
        "crm_erp_call_duration_seconds_bucket",
        "crm_erp_call_duration_seconds_count",
        "crm_erp_call_failures_total",
        "crm_erp_breaker_open",
        "crm_notifications_total",
        "crm_store_commit_duration_seconds_bucket",
    } <= set(worker)
    assert {"erp": "sandbox"} in worker["crm_erp_breaker_open"]
    assert {"erp": "sandbox", "operation": "create_order", "kind": "unavailable"} in worker[
        "crm_erp_call_failures_total"
    ]
    assert {"channel": "sms", "result": "sent"} in worker["crm_notifications_total"]


def test_the_parser_finds_names_and_matchers_and_skips_functions_and_labels() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, path) (rate(crm_request_duration_seconds_bucket{path=~"/a|/b"}[5m])))'
        " / on(instance) group_left up and max without (pod) (crm_outbox_dead_letters) > bool 0"
    )
    assert list(metric_selectors(expr)) == [
        ("crm_request_duration_seconds_bucket", {"path": "/a|/b"}),
        ("up", {}),
        ("crm_outbox_dead_letters", {}),
    ]


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_metric_and_label_asked_for_is_exported(
    source: str, scrapes: dict[str, Scrape], exported: Scrape
) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else rule_exprs()
    asked = [selector for expr in exprs for selector in metric_selectors(expr)]
    assert asked
    for name, matchers in asked:
        if name in SCRAPE_SERIES:
            assert set(matchers) <= TARGET_LABELS, (name, matchers)
            continue
        if "job" in matchers:  # the job that exports it (api or worker) must be the one asked
            assert name in scrapes[matchers["job"]], f"{source} asks job {matchers['job']} for {name}"
        assert name in exported, f"{source} asks for {name}, which the app does not export"
        known = {label for labels in exported[name] for label in labels} | TARGET_LABELS
        assert set(matchers) <= known, (name, set(matchers) - known)
        if "path" in matchers:  # each alternative of a route pattern matches a route the app reports
            paths = {labels["path"] for labels in exported[name]}
            for pattern in matchers["path"].split("|"):
                assert any(re.fullmatch(pattern, path) for path in paths), (pattern, paths)


def test_the_dashboard_has_the_panels_of_the_runbook() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    titles = {p["title"] for p in panels}
    assert {
        "Orders/s by result",
        "Credit holds and decisions",
        "Outbox backlog",
        "Oldest pending outbox message",
        "Dead letters",
        "Request duration p50 by route",
        "Request duration p99 by route",
        "5xx ratio",
        "ERP call duration p99",
        "ERP errors/s",
        "ERP breakers open",
    } <= titles
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    [variable] = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == ("datasource", "datasource", "prometheus")


def test_the_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """promtool checks each query as the expression of a recording rule (Grafana's variables filled in)."""
    rules: list[dict[str, Any]] = []
    for index, query in enumerate(dashboard_exprs()):
        expr = query
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"crm:dashboard_query_{index}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
