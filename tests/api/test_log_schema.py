"""One log schema (SPEC §9, issue 14): every line the API writes is one JSON object with timestamp, level, event
and logger; the request id and the signed-in user are bound for the whole request (the access line, written
after the answer has gone, carries them), the order's id where one is known; one access line per request, also
for unknown paths; no OTP and no token in any line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import structlog
from litestar.testing import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.logs import ACCESS_LOGGER, bind, configure, info_line
from entrypoints.settings import Settings
from tests.api.conftest import Api

SCHEMA = ("timestamp", "level", "event", "logger")


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_api_log_lines_share_one_schema_and_carry_the_request_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48, log_level="debug"
    )
    container = bootstrap(settings)
    with TestClient(create_app(container)) as client:
        api = Api(container, client, tmp_path / "sms.jsonl")
        capsys.readouterr()
        tokens = api.sign_in(api.rep)
        otp = api.last_otp(api.rep.mobile)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        body = {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "submit": True}
        created = client.post("/api/v1/orders", json=body, headers={**auth, "X-Request-ID": "req-create"})
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assert client.get(f"/api/v1/orders/{order_id}", headers={**auth, "X-Request-ID": "req-read"}).status_code == 200
        assert client.get("/nowhere?token=secret-in-query", headers={"X-Request-ID": "req-lost"}).status_code == 404
    output = capsys.readouterr().err

    lines = lines_of(output)
    assert lines, "nothing was logged"
    for line in lines:
        assert all(key in line for key in SCHEMA), line
        assert list(line)[:4] == list(SCHEMA), line  # the same order on every line
    access = {line["request_id"]: line for line in lines if line["logger"] == "crm.access"}
    assert access["req-create"] | {"duration_ms": 0} == {
        "timestamp": access["req-create"]["timestamp"],
        "level": "info",
        "event": "request",
        "logger": "crm.access",
        "request_id": "req-create",
        "user_id": api.rep.id,
        "order_id": order_id,
        "method": "POST",
        "path": "/api/v1/orders",
        "status": 201,
        "duration_ms": 0,
    }
    assert access["req-create"]["duration_ms"] > 0
    assert (access["req-read"]["user_id"], access["req-read"]["order_id"]) == (api.rep.id, order_id)
    assert access["req-lost"]["status"] == 404 and "user_id" not in access["req-lost"]
    assert access["req-lost"]["path"] == "/nowhere"  # never the query string
    sms = [line for line in lines if line["logger"] == "crm.sms"]
    assert sms and all("request_id" in line for line in sms)  # bound for everything the request logs
    assert len({line["request_id"] for line in lines if line["logger"] == "crm.access"}) == len(access)
    server_lines = json.dumps([line for line in lines if line["logger"] != "httpx"])  # httpx: the test client's
    for secret in (otp, tokens["access_token"], tokens["refresh_token"], "secret-in-query"):
        assert secret not in server_lines


@pytest.mark.parametrize("level", ["info", "warning"])
def test_the_access_line_is_the_line_a_structlog_logger_writes(level: str) -> None:
    """`info_line` (the access log's fast path) writes what `structlog.get_logger(name).info(event, **fields)`
    writes, bound context included, and nothing when the level is off."""
    out = io.StringIO()
    configure(level, out)
    try:
        structlog.contextvars.clear_contextvars()
        bind(request_id="req-1", user_id="U1")
        fields = {"method": "GET", "path": "/api/v1/orders", "status": 200, "duration_ms": 1.5}
        structlog.get_logger(ACCESS_LOGGER).info("request", **fields)
        info_line(ACCESS_LOGGER, "request")(**fields)
    finally:
        structlog.contextvars.clear_contextvars()
        configure("info")
    written = lines_of(out.getvalue())

    if level == "warning":
        assert written == []
        return
    slow, fast = written
    assert list(fast) == list(slow)  # the same fields in the same order
    assert fast | {"timestamp": ""} == slow | {"timestamp": ""}
    assert fast["logger"] == ACCESS_LOGGER and fast["request_id"] == "req-1" and fast["status"] == 200
