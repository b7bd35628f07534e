"""/api/v1/integrations/{erp}/events: what the ERPs tell the CRM (order status, invoices, balances).

No user token: the ERP signs each request with HMAC-SHA256 over `timestamp + "." + raw body` under
`CRM_ERP_WEBHOOK_SECRET`, sent as `X-CRM-Timestamp` (Unix seconds) and `X-CRM-Signature: sha256=<hex>`. The
signature and the timestamp window (±5 minutes) are checked by a guard on the raw bytes before the body is
parsed, so an unsigned caller learns nothing about the body rules. Replays inside the window change nothing:
every event needs its `id` (remembered: the same id again is `duplicate`), and a balance or status older than
the one applied (by the ERP's `as_of` / `changed_at`) is `unchanged` (SPEC §5).
See docs/integrations/erp-webhook.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, Final

from litestar import Controller, Request, Response, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from crm_domain.errors import ConcurrentUpdate, DomainError, UpstreamUnavailable, ValidationFailed
from crm_domain.services.erp_events import EventResult
from entrypoints.bootstrap import Container
from entrypoints.http.deps import CrmDep
from entrypoints.http.problems import problem
from entrypoints.http.schemas.integrations import (
    CustomerBalanceEventIn,
    ErpEventsIn,
    ErpEventsOut,
    EventResultOut,
    OrderStatusEventIn,
)

TIMESTAMP_HEADER: Final = "X-CRM-Timestamp"
SIGNATURE_HEADER: Final = "X-CRM-Signature"
WINDOW_SECONDS: Final = 300
SECURITY_SCHEME: Final = "ErpSignature"
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
_TIMESTAMP = re.compile(r"^\d{1,12}$")

#: The OpenAPI component that documents the scheme (registered in app.py).
SIGNATURE_COMPONENTS: Final = Components(
    security_schemes={
        SECURITY_SCHEME: SecurityScheme(
            type="apiKey",
            name=SIGNATURE_HEADER,
            security_scheme_in="header",
            description=f"`sha256=` + hex HMAC-SHA256 of `{TIMESTAMP_HEADER} + '.' + raw body` under "
            "CRM_ERP_WEBHOOK_SECRET; the timestamp (Unix seconds) must be within 5 minutes of the server's clock.",
        )
    }
)


class SignatureRefused(Exception):
    """The request is not signed by an ERP that holds the webhook secret (answered 401)."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-CRM-Signature` value of a request (what an ERP computes; tests and tools use it too)."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes | None, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    """`SignatureRefused` unless `signature` is the HMAC of `timestamp.body` and the timestamp is fresh."""
    if not secret:
        raise SignatureRefused("the ERP webhook is not configured (CRM_ERP_WEBHOOK_SECRET)")
    if not timestamp or not signature:
        raise SignatureRefused(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    match = _SIGNATURE.match(signature.strip().lower())
    if not _TIMESTAMP.match(timestamp) or match is None:
        raise SignatureRefused(f"{TIMESTAMP_HEADER} must be Unix seconds and {SIGNATURE_HEADER} sha256=<hex>")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), f"sha256={match.group(1)}".encode()):
        raise SignatureRefused("the signature does not match the body")
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        raise SignatureRefused("the timestamp is outside the 5-minute window")


def _container(connection: ASGIConnection[Any, Any, Any, Any]) -> Container:
    container: Container = connection.app.state["container"]
    return container


async def erp_signed(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Guard: the ERP exists (else 404) and signed this very body recently (else 401)."""
    c = _container(connection)
    erp = connection.path_params.get("erp", "")
    try:
        c.erp.for_system(erp)
    except ValidationFailed:
        raise NotFoundException(f"no ERP named {erp!r} is configured") from None
    body = await Request[Any, Any, Any](connection.scope, connection.receive).body()  # cached for the handler
    secret = c.settings.erp_webhook_secret
    verify(
        secret.get_secret_value().encode() if secret is not None else None,
        connection.headers.get(TIMESTAMP_HEADER),
        connection.headers.get(SIGNATURE_HEADER),
        body,
        c.crm.ctx.now().timestamp(),
    )


def signature_refused(_request: Request[Any, Any, Any], exc: SignatureRefused) -> Response[dict[str, Any]]:
    return problem(
        401,
        "signature_refused",
        "Signature refused",
        str(exc),
        headers={"WWW-Authenticate": f'CRM-Signature header="{SIGNATURE_HEADER}"'},
    )


_TRANSIENT = (UpstreamUnavailable, ConcurrentUpdate)


class IntegrationsController(Controller):
    path = "/integrations"
    tags = ["integrations"]
    guards = [erp_signed]
    security = [{SECURITY_SCHEME: []}]
    exception_handlers = {SignatureRefused: signature_refused}

    @post(
        "/{erp:str}/events",
        status_code=HTTP_200_OK,
        operation_id="receiveErpEvents",
        sync_to_thread=True,
        summary="Order status, invoices and balances from an ERP (HMAC-signed; no user token)",
        description='One event or `{"events": [...]}` (at most 500), applied in order, each on its own. The answer '
        "lists each event's outcome: `applied`, `unchanged` (the CRM already knew: a repeated or late event), "
        "`duplicate` (an event `id` seen before; every event needs one) or `rejected` (with the problem `code` "
        "and `detail`, e.g. an "
        "unknown order or a transition the order cannot make; sending it again will not help). 401 for a missing, "
        "wrong or stale signature, 404 for an ERP that is not configured, 400 for a malformed body (nothing "
        "applied), 503 when the ERP or the store is unavailable for a moment (send the same request again: "
        "what was applied comes back `unchanged` or `duplicate`).",
    )
    def receive(
        self, crm: CrmDep, request: Request[Any, Any, Any], erp: FromPath[str], data: JSONBody[ErpEventsIn]
    ) -> ErpEventsOut:
        c = _container(request)
        gateway = c.erp.for_system(erp)
        currency = c.settings.default_currency
        results: list[EventResultOut] = []
        for index, event in enumerate(data.events()):
            try:
                result: EventResult
                if isinstance(event, OrderStatusEventIn):
                    report = crm.erp_events.complete_reference(gateway, event.report(currency))
                    result = crm.erp_events.apply_order_status(erp, report, event.id)
                else:
                    assert isinstance(event, CustomerBalanceEventIn)
                    result = crm.erp_events.apply_balance(erp, event.report(currency), event.id)
                results.append(EventResultOut.of(index, event, result))
            except _TRANSIENT:
                raise
            except DomainError as exc:
                results.append(
                    EventResultOut(
                        index=index, id=event.id, type=event.type, outcome="rejected", code=exc.code, detail=str(exc)
                    )
                )
        count = {o: sum(1 for r in results if r.outcome == o) for o in ("applied", "unchanged", "duplicate")}
        return ErpEventsOut(**count, rejected=len(results) - sum(count.values()), results=results)
