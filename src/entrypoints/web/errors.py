"""What a page shows when something is refused: the same status the API would answer, as a page.

Not signed in (or the session ended) → to the sign-in page, coming back afterwards; outside scope → the not-found
page (404, so another dealer's order does not show it exists); a form without its CSRF token → 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain import errors as e
from entrypoints.http.problems import status_of
from entrypoints.web.forms import CsrfRefused
from entrypoints.web.rendering import page
from entrypoints.web.session import NOT_PAGES

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "That has changed",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Try again shortly",
}


def error_page(request: Request[Any, Any, Any], status: int, message: str) -> Template:
    return page(
        request, "error.html", status_code=status, status=status, title=TITLES.get(status, "Error"), message=message
    )


def to_sign_in(request: Request[Any, Any, Any], _exc: Exception) -> Response[Any]:
    target = request.url.path
    if request.method == "GET" and target not in ("/", "/sign-in"):
        location = f"/sign-in?next={quote(target, safe='/')}"
    else:
        location = "/sign-in"
    if request.headers.get("hx-request"):
        return Response(content="", status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=HTTP_303_SEE_OTHER)


def domain_error(request: Request[Any, Any, Any], exc: e.DomainError) -> Response[Any]:
    status, _title = status_of(exc)
    if status == 401:
        return to_sign_in(request, exc)
    message = "There is nothing here, or it is not yours to see." if status == 404 else exc.message
    return error_page(request, status, message)


def csrf_refused(request: Request[Any, Any, Any], _exc: CsrfRefused) -> Response[Any]:
    return error_page(
        request,
        403,
        "This form was not sent from this site's page, or the page is too old. Go back, reload the page and try again.",
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 401:
        return to_sign_in(request, exc)
    messages = {404: "There is nothing here, or it is not yours to see.", 405: "That cannot be done here."}
    message = messages.get(status, "The form was not filled in as expected." if status == 400 else "")
    return error_page(request, status if status >= 400 else 500, message or "The request could not be completed.")


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request.logger.exception("unhandled error on a page", exc_info=exc)
    return error_page(request, 500, "The server could not complete the request. Try again in a moment.")


HANDLERS: dict[type[Exception] | int, Any] = {
    e.DomainError: domain_error,
    CsrfRefused: csrf_refused,
    HTTPException: http_error,
    Exception: internal_error,
}


def browsers_get_pages(api_handler: Any) -> Any:
    """The app-wide HTTPException handler: a page for a browser that asked for a page outside the API (an unknown
    path: 404, a wrong method: 405), the API's problem details for everyone else."""

    def handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        path = request.url.path
        wants_html = "text/html" in request.headers.get("accept", "")
        if wants_html and exc.status_code in (404, 405) and not path.startswith(NOT_PAGES):
            return http_error(request, exc)
        return api_handler(request, exc)  # type: ignore[no-any-return]

    return handler
