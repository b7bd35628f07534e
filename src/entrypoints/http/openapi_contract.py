"""The OpenAPI document as client developers get it (SPEC §4, contract for client developers).

Litestar builds the document from the routes; `finish` completes it in one place, once, before it is served:

- every operation lists each error status it can answer, as `application/problem+json` with the `ProblemDetails`
  schema (the shape `problems.py` answers with), instead of Litestar's default 400 `{status_code, detail, extra}`;
- GETs document `304 Not Modified` (they send an `ETag` and answer `If-None-Match`);
- reports, which answer CSV, XLSX or SVG as well as JSON (`?format=` or `Accept`), document those types too;
- the bearer scheme is a valid OAS 3.1 `http` scheme (no `name`);
- the main request and response bodies carry examples (`EXAMPLES`; tests check them against their schemas).

Which statuses an operation can answer follows from what it is, by the rules of `error_statuses`, so a new
route is documented like the others without a line of its own.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from entrypoints.http.openapi_examples import EXAMPLES
from entrypoints.http.problems import PROBLEM_JSON, TYPE_BASE
from entrypoints.report_tables import CSV_TYPE, SVG_TYPE, XLSX_TYPE

PROBLEM_SCHEMA_NAME: Final = "ProblemDetails"
_METHODS: Final = ("get", "put", "post", "patch", "delete")
_WRITES: Final = ("put", "post", "patch", "delete")
#: What a report answers besides JSON, chosen by its `format` query parameter (controllers/reports.py).
_REPORT_FILES: Final[dict[str, Any]] = {
    CSV_TYPE: {"schema": {"type": "string"}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    SVG_TYPE: {"schema": {"type": "string"}},
}
#: Public operations that still answer 401 (a wrong code, a spent refresh token).
_PUBLIC_401: Final = ("/api/v1/auth/otp/verify", "/api/v1/auth/refresh")

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": PROBLEM_SCHEMA_NAME,
    "description": "An RFC 9457 problem: every 4xx and 5xx answer of this API has this shape.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": f"`{TYPE_BASE}` + `code`."},
        "title": {"type": "string", "description": "A short, human-readable summary of the problem type."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong with this request, in words."},
        "code": {
            "type": "string",
            "description": "A stable machine code: `validation_failed`, `json_too_deep`, `unknown_parameter`, "
            "`not_found`, `permission_denied`, `conflict`, `too_many_requests`, …",
        },
        "field": {"type": "string", "description": "The input field at fault, when there is one."},
        "errors": {
            "type": "array",
            "description": "Each invalid input (validation failures only).",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": ["string", "null"]},
                    "message": {"type": ["string", "null"]},
                    "source": {"type": ["string", "null"]},
                },
            },
        },
    },
    "examples": [
        {
            "type": f"{TYPE_BASE}validation_failed",
            "title": "Invalid input",
            "status": 400,
            "detail": "lines.0.quantity: must be a decimal string of digits 0-9 with one optional point and sign",
            "code": "validation_failed",
            "errors": [{"key": "lines.0.quantity", "message": "must be a decimal string", "source": "body"}],
        }
    ],
}

#: status -> (description, extra response headers)
_STATUSES: Final[dict[int, str]] = {
    400: "Invalid input: a malformed or invalid body (`validation_failed`), a JSON body nested deeper than 32 "
    "levels (`json_too_deep`), an unknown or invalid query parameter (`unknown_parameter`, `validation_failed`).",
    401: "Not signed in: no, an expired or a revoked access token (or a wrong sign-in code).",
    403: "Signed in, but the user lacks the permission, the record is outside the user's scope, or a business "
    "rule refuses.",
    404: "No such resource (or not visible to this user).",
    409: "Conflict: a duplicate key, a transition the current state does not allow, a concurrent change, or an "
    "`Idempotency-Key` reused with another body.",
    413: "The body is larger than this operation accepts.",
    415: "The body is not `application/json` (or the media type this operation takes).",
    429: "Too many requests: wait for `Retry-After` seconds.",
    500: "An unexpected error; the answer carries `X-Request-ID` to quote.",
    503: "A dependency (the store, Redis, the ERP) is unavailable; retry later.",
}
_RETRY_AFTER: Final = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def problem_response_name(status: int) -> str:
    return f"Problem{status}"


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses `operation` can answer, from what it is: every operation may get bad input (400),
    too many requests (429) or fail (500); a signed-in one answers 401 and 403; one with path parameters or
    `…_id` filters 404;
    one with a body 413 and 415; a write under /api/v1 404 (what its body names may not exist) and 409; anything
    needing the store 503."""
    statuses = {400, 429, 500}
    public = operation.get("security") == [{}]
    if not public or path in _PUBLIC_401 or path.startswith("/api/v1/integrations/"):
        statuses.add(401)
    if not public:
        statuses.add(403)
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" or (p.get("in") == "query" and p["name"].endswith("_id")) for p in parameters):
        statuses.add(404)  # a path or a filter names a record that may not exist
    if "requestBody" in operation:
        statuses |= {413, 415}
    if method in _WRITES and path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/"):
        statuses |= {404, 409}  # a body may name a customer, user or request that does not exist
    if path.startswith("/api/v1/") or path == "/health/ready":
        statuses.add(503)
    return statuses


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Complete the generated `document` in place (once; a second call changes nothing) and return it."""
    components = document.setdefault("components", {})
    if PROBLEM_SCHEMA_NAME in components.get("schemas", {}):
        return document
    schemes = components.get("securitySchemes", {})
    for scheme in schemes.values():
        if scheme.get("type") == "http":
            scheme.pop("name", None)  # OAS 3.1: an http scheme has no `name`
            scheme["scheme"] = str(scheme.get("scheme", "bearer")).lower()
    schemas = components.setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = copy.deepcopy(PROBLEM_SCHEMA)
    responses = components.setdefault("responses", {})
    ref = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}
    for status, description in _STATUSES.items():
        response: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": ref}}}
        if status in (429, 503):
            response["headers"] = copy.deepcopy(_RETRY_AFTER)
        responses[problem_response_name(status)] = response
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                _document_operation(method, path, operation)
    for name, example in EXAMPLES.items():
        if name in schemas:
            schemas[name]["examples"] = [example]
    return document


def _document_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    answers: dict[str, Any] = operation.setdefault("responses", {})
    for code in [s for s in answers if s.isdigit() and int(s) >= 400]:
        del answers[code]  # Litestar's default 400 shape is not what the server answers
    if method == "get":
        answers["304"] = {"description": "Not modified: the `ETag` sent in `If-None-Match` is still current."}
    if any(p.get("in") == "query" and p.get("name") == "format" for p in operation.get("parameters", [])):
        ok = answers.get("200", {}).get("content")
        if ok is not None:
            for media_type, content in _REPORT_FILES.items():
                ok.setdefault(media_type, copy.deepcopy(content))
    for status in sorted(error_statuses(method, path, operation)):
        answers[str(status)] = {"$ref": f"#/components/responses/{problem_response_name(status)}"}
