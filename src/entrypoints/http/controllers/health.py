"""Liveness and readiness (outside /api/v1)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get

from entrypoints.http.deps import ReadinessDep
from entrypoints.http.problems import PROBLEM_JSON


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    security = [{}]  # public: no token

    @get("/live", operation_id="live", summary="The process is up", sync_to_thread=False)
    def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        operation_id="ready",
        summary="The store (and Redis, when configured) answer; else 503",
        sync_to_thread=True,
    )
    def ready(self, readiness: ReadinessDep) -> Response[dict[str, Any]]:
        checks = readiness.check()
        ok = all(v == "ok" for v in checks.values())
        body = {"status": "ok" if ok else "unavailable", "checks": checks}
        if ok:
            return Response(body)
        return Response(
            {
                **body,
                "type": "about:blank",
                "title": "Not ready",
                "status": 503,
                "code": "not_ready",
                "detail": "a dependency is down",
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )
