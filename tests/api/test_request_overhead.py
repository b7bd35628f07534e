"""What keeps the per-request CPU down (bench/request_overhead.py): no work handed to a worker thread or an anyio
task group when nothing in it waits."""

from __future__ import annotations

import inspect
from typing import Any

import litestar._kwargs.kwargs_model
import pytest

from entrypoints.http.query_params import refuse_unknown_query_parameters
from tests.api.conftest import Api


def test_the_app_wide_request_hook_is_a_coroutine() -> None:
    """Litestar runs a plain-function `before_request` hook in a worker thread: a hop per request."""
    assert inspect.iscoroutinefunction(refuse_unknown_query_parameters)


def test_dependencies_are_resolved_in_turn_without_a_task_group(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("dependencies resolved in a task group")

    monkeypatch.setattr(litestar._kwargs.kwargs_model, "create_task_group", refuse)
    headers = api.login(api.rep)  # `crm`, `auth`, `tokens`: independent dependencies of the sign-in routes
    created = api.client.post(
        "/api/v1/orders",
        json={"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "submit": True},
        headers=headers,
    )

    assert created.status_code == 201, created.text  # `crm`, `writes`, `actor`
    assert api.client.get("/api/v1/orders", headers=headers).json()["items"][0]["id"] == created.json()["id"]
