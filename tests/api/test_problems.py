"""The one table from error to HTTP (entrypoints/http/problems.py), pinned error class by error class.

`EXPECTED` lists every `DomainError` subclass in src/ with the status, machine `code` and problem `type` it must
answer with. A new error class fails `test_every_domain_error_is_listed` until it is added here, and, when the
domain core defines it, to the table in problems.py too (`test_domain_errors_are_mapped_on_purpose`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import get
from litestar.params import FromPath
from litestar.testing import TestClient

import adapters
import crm_domain
import entrypoints
from adapters.erp.errors import ErpCredentialsRefused
from adapters.mongo.errors import CommitOutcomeUnknown, StoreNotReady
from crm_domain import errors as e
from crm_domain.erp import ErpRejected
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.http.problems import PROBLEMS, problem_type, status_of
from entrypoints.settings import Settings
from tests.api.conftest import problem

TYPE_BASE = "https://docs.crm.example/problems/"

#: (a raised error, the status, code and title it answers with). One row per class.
EXPECTED: list[tuple[e.DomainError, int, str, str]] = [
    (e.DomainError("refused"), 400, "domain_error", "Request refused"),
    (e.ValidationFailed("quantity must be positive", field="quantity"), 400, "validation_failed", "Invalid input"),
    (e.CurrencyMismatch("INR", "USD"), 400, "currency_mismatch", "Currencies cannot be mixed"),
    (e.UnknownSku("NOPE-1"), 400, "unknown_sku", "Unknown SKU"),
    (e.InactiveSku("OLD-1"), 400, "inactive_sku", "Inactive SKU"),
    (e.RecipientRejected("sms", "+91******01", 400), 400, "recipient_rejected", "Recipient refused"),
    (e.Unauthenticated("the OTP has expired"), 401, "unauthenticated", "Not signed in"),
    (e.InactiveUser("U1"), 401, "inactive_user", "User is not active"),
    (e.Forbidden("not yours"), 403, "forbidden", "Forbidden"),
    (e.PermissionDenied("order:create"), 403, "permission_denied", "Permission required"),
    (e.RuleViolation("not on a holiday"), 403, "rule_violation", "Refused by a business rule"),
    (e.FourEyesViolation("approve", "U1"), 403, "four_eyes", "Four-eyes rule"),
    (
        e.CreditRaiseNeedsApproval("C1", "limit"),
        403,
        "credit_raise_needs_approval",
        "A credit raise needs a second person's approval",
    ),
    (e.NotFound("gone"), 404, "not_found", "Not found"),
    (e.EntityNotFound("order", "O1"), 404, "not_found", "Not found"),
    (e.Conflict("clash"), 409, "conflict", "Conflict"),
    (e.InvalidTransition("O1", "draft", "delivered"), 409, "invalid_transition", "Transition not allowed"),
    (e.DuplicateKey("customer", "code", "D0001"), 409, "duplicate", "Already exists"),
    (
        e.IdempotencyKeyReused("k-1"),
        409,
        "idempotency_key_reused",
        "Idempotency-Key reused with a different request",
    ),
    (e.ConcurrentUpdate("order", "O1"), 409, "concurrent_update", "Changed concurrently"),
    (e.TooManyRequests("slow down", retry_after=30), 429, "too_many_requests", "Too many requests"),
    (ErpRejected("sold-to party D0001 is blocked"), 502, "erp_rejected", "Refused by the ERP"),
    (e.UpstreamUnavailable("the ERP times out"), 503, "upstream_unavailable", "A dependency is unavailable"),
    (CommitOutcomeUnknown(), 503, "commit_outcome_unknown", "A dependency is unavailable"),
    (StoreNotReady("MongoDB is a standalone server"), 503, "store_not_ready", "A dependency is unavailable"),
    (
        ErpCredentialsRefused("SAP", "HTTP 401", "CRM_SAP_USER and CRM_SAP_PASSWORD"),
        503,
        "erp_credentials_refused",
        "A dependency is unavailable",
    ),
]

ROWS = [pytest.param(*row, id=type(row[0]).__name__) for row in EXPECTED]


def _subclasses(cls: type[e.DomainError]) -> Iterator[type[e.DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _every_domain_error() -> set[type[e.DomainError]]:
    """The root and every subclass of `DomainError` defined in src/ (every module imported first)."""
    roots = (crm_domain, adapters, entrypoints)
    for package in roots:
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    names = tuple(p.__name__ for p in roots)
    return {e.DomainError} | {c for c in _subclasses(e.DomainError) if c.__module__.split(".")[0] in names}


def test_every_domain_error_is_listed() -> None:
    listed = [type(error) for error, *_ in EXPECTED]
    assert len(listed) == len(set(listed)), "one row per class"
    assert set(listed) == _every_domain_error()


def test_domain_errors_are_mapped_on_purpose() -> None:
    """Each error of the domain core has its own row in the table; an adapter's error (which entry points may
    not import) answers as its category, a direct subclass of `DomainError`."""
    for cls in _every_domain_error():
        if cls.__module__.startswith("crm_domain."):
            assert cls in PROBLEMS, f"{cls.__name__} falls through to {status_of.__name__}'s default"
        else:
            mapped = next(c for c in cls.__mro__ if c in PROBLEMS)
            assert mapped.__bases__ == (e.DomainError,), cls


@pytest.mark.parametrize(("error", "status", "code", "title"), ROWS)
def test_table_lookup(error: e.DomainError, status: int, code: str, title: str) -> None:
    assert status_of(error) == (status, title)
    assert error.code == code
    assert problem_type(error.code) == TYPE_BASE + code


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    """The real app, plus one public route that raises the error `EXPECTED[index]`."""

    @get("/health/raise/{index:int}", sync_to_thread=False)
    def raise_error(index: FromPath[int]) -> None:
        raise EXPECTED[index][0]

    tmp_path: Path = tmp_path_factory.mktemp("problems")
    settings = Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48)  # type: ignore[arg-type]
    app = create_app(bootstrap(settings))
    app.register(raise_error)
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("index", "status", "code", "title"),
    [pytest.param(i, *row[1:], id=type(row[0]).__name__) for i, row in enumerate(EXPECTED)],
)
def test_http_answer(client: TestClient[Any], index: int, status: int, code: str, title: str) -> None:
    error = EXPECTED[index][0]
    response = client.get(f"/health/raise/{index}")
    body = problem(response, status, code)
    assert body["type"] == TYPE_BASE + code
    assert body["title"] == title
    assert body["detail"] == error.message
    if isinstance(error, e.ValidationFailed):
        assert body["field"] == error.field
    if isinstance(error, e.TooManyRequests):
        assert response.headers["Retry-After"] == "30"
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
