"""The one table from error to HTTP: status, problem `type` and title (RFC 9457 problem details).

Every error answer is `application/problem+json` with `type`, `title`, `status`, `detail` and a machine
`code`. Invalid input is always 400.
"""

from __future__ import annotations

from typing import Any, Final

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from crm_domain import errors as e
from crm_domain.erp import ErpRejected

PROBLEM_JSON: Final = "application/problem+json"
TYPE_BASE: Final = "https://docs.crm.example/problems/"

#: error class -> (status, title). Looked up along the class's MRO, most specific first. Every error the domain
#: core defines is listed on purpose (tests/api/test_problems.py fails on one that is not); an error an adapter
#: defines (entry points do not import adapters) answers as its category, e.g. `ErpCredentialsRefused` as
#: `UpstreamUnavailable`. The `type` is `TYPE_BASE` + the error's `code`.
PROBLEMS: Final[dict[type[e.DomainError], tuple[int, str]]] = {
    e.ValidationFailed: (400, "Invalid input"),
    e.CurrencyMismatch: (400, "Currencies cannot be mixed"),
    e.UnknownSku: (400, "Unknown SKU"),
    e.InactiveSku: (400, "Inactive SKU"),
    e.RecipientRejected: (400, "Recipient refused"),
    e.Unauthenticated: (401, "Not signed in"),
    e.InactiveUser: (401, "User is not active"),
    e.Forbidden: (403, "Forbidden"),
    e.PermissionDenied: (403, "Permission required"),
    e.RuleViolation: (403, "Refused by a business rule"),
    e.FourEyesViolation: (403, "Four-eyes rule"),
    e.CreditRaiseNeedsApproval: (403, "A credit raise needs a second person's approval"),
    e.NotFound: (404, "Not found"),
    e.EntityNotFound: (404, "Not found"),
    e.Conflict: (409, "Conflict"),
    e.InvalidTransition: (409, "Transition not allowed"),
    e.DuplicateKey: (409, "Already exists"),
    e.IdempotencyKeyReused: (409, "Idempotency-Key reused with a different request"),
    e.ConcurrentUpdate: (409, "Changed concurrently"),
    e.TooManyRequests: (429, "Too many requests"),
    e.UpstreamUnavailable: (503, "A dependency is unavailable"),
    # The ERP understood and refused for good: not the client's input (400), not worth retrying (503).
    ErpRejected: (502, "Refused by the ERP"),
    e.DomainError: (400, "Request refused"),
}

_HTTP_CODES: Final = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def problem(
    status: int, code: str, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_type(code: str) -> str:
    """The problem `type` URI of a machine `code`."""
    return TYPE_BASE + code


def status_of(error: e.DomainError) -> tuple[int, str]:
    """The (status, title) of `error`: the table's entry for its most specific listed class."""
    for cls in type(error).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return PROBLEMS[e.DomainError]  # pragma: no cover


def domain_error_handler(_request: Request[Any, Any, Any], exc: e.DomainError) -> Response[dict[str, Any]]:
    status, title = status_of(exc)
    extra: dict[str, Any] = {}
    headers = None
    if isinstance(exc, e.ValidationFailed) and exc.field:
        extra["field"] = exc.field
    if isinstance(exc, e.TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return problem(status, exc.code, title, exc.message, headers=headers, **extra)


def http_error_handler(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code = getattr(exc, "problem_code", None) or _HTTP_CODES.get(status, "http_error")
    extra: dict[str, Any] = {}
    detail = exc.detail or ""
    if isinstance(exc, ValidationException):
        code = "validation_failed"
        extra["errors"] = _clean(exc.extra)
        detail = _summary(exc) or "the request is not valid"
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        detail = "internal error"
    title = "Invalid input" if status == 400 else (detail or code.replace("_", " ").capitalize())
    headers = exc.headers
    if status == 401:  # RFC 9110 §15.5.2: a 401 names its scheme (the JWT middleware's refusals come this way)
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return problem(status, code, title, detail, headers=headers, **extra)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    structlog.get_logger("crm.api").error("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "Internal error", "the server could not complete the request")


def _clean(extra: Any) -> list[dict[str, Any]]:
    """Validation details without echoing the submitted values back (they may hold secrets)."""
    cleaned = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            cleaned.append({"key": item.get("key"), "message": item.get("message"), "source": item.get("source")})
    return cleaned


def _summary(exc: ValidationException) -> str:
    items = _clean(exc.extra)
    if not items:
        return str(exc.detail)
    return "; ".join(f"{i['key'] or 'body'}: {i['message']}" for i in items[:5])
