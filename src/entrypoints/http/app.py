"""The Litestar application: API v1, health and metrics, built from the composition root's container."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.pydantic import PydanticPlugin
from litestar.security.jwt import Token

from crm_domain.errors import DomainError, Unauthenticated
from crm_domain.users import Actor
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.http.client_address import trusted_networks
from entrypoints.http.controllers.attachments import AttachmentController
from entrypoints.http.controllers.auth import AuthController
from entrypoints.http.controllers.credit import CreditLimitRequestController, CustomerCreditController
from entrypoints.http.controllers.customers import CustomerController
from entrypoints.http.controllers.health import HealthController
from entrypoints.http.controllers.integrations import SIGNATURE_COMPONENTS, IntegrationsController
from entrypoints.http.controllers.interactions import InteractionController
from entrypoints.http.controllers.orders import OrderController
from entrypoints.http.controllers.products import RESPONSE_CACHE_STORE, ProductController
from entrypoints.http.controllers.reference import ReferenceController
from entrypoints.http.controllers.reports import ReportController, StatementController
from entrypoints.http.controllers.targets import PerformanceController, TargetController
from entrypoints.http.controllers.users import UserController
from entrypoints.http.deps import resolve_in_turn
from entrypoints.http.docs_pages import LocalRedocPlugin, LocalSwaggerPlugin
from entrypoints.http.etags import TaggingCompression, not_modified_middleware
from entrypoints.http.json_body import JsonRequest
from entrypoints.http.metrics import http_metrics, metrics_controller
from entrypoints.http.middleware import access_log, log_context_middleware, response_headers
from entrypoints.http.openapi_contract import finish
from entrypoints.http.problems import domain_error_handler, http_error_handler, internal_error_handler
from entrypoints.http.query_params import refuse_unknown_query_parameters
from entrypoints.http.rate_limits import rate_limit_middleware
from entrypoints.http.readiness import Readiness
from entrypoints.http.security import Tokens, TokenSettings
from entrypoints.logs import configure as configure_logging
from entrypoints.web.app import WebApp
from entrypoints.web.errors import browsers_get_pages

API_PREFIX = "/api/v1"
JSON_BODY_LIMIT = 1024 * 1024
ATTACHMENT_BODY_LIMIT = 11 * 1024 * 1024


def _actor(request: Request[Actor, Token, Any]) -> Actor:
    user = request.scope.get("user")
    if not isinstance(user, Actor):
        raise Unauthenticated("sign in first")
    return user


def _cors(origins: list[str]) -> CORSConfig | None:
    """CORS for the origins of `CRM_CORS_ORIGINS` only; none configured, no CORS headers at all (SPEC §5)."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )


class ContractJsonPlugin(JsonRenderPlugin):
    """`/schema/openapi.json`: Litestar's document completed by `openapi_contract.finish` (errors, examples)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, finish(openapi_schema))


def create_app(container: Container | None = None) -> Litestar:
    """Build the app; `crm serve` calls this once per worker process (granian factory mode)."""
    c = container or bootstrap()
    settings = c.settings
    configure_logging(settings.log_level)
    tokens = Tokens(
        TokenSettings(
            secret=c.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=settings.access_ttl,
            refresh_ttl=settings.refresh_ttl,
        ),
        c.auth,
    )
    readiness = Readiness(c.uow, c.probes)
    web = WebApp(c)
    writes = c.writes()
    extra_routes = [ReferenceController] if settings.bench_routes else []
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            OrderController,
            UserController,
            CustomerController,
            CustomerCreditController,
            InteractionController,
            CreditLimitRequestController,
            ProductController,
            TargetController,
            PerformanceController,
            ReportController,
            StatementController,
            AttachmentController,
            IntegrationsController,
        ],
        request_max_body_size=JSON_BODY_LIMIT,
    )
    for controller in extra_routes:
        api.register(controller)
    prometheus = http_metrics()
    dependencies = {
        "crm": Provide(lambda: c.crm, use_cache=True, sync_to_thread=False),
        "auth": Provide(lambda: c.auth, use_cache=True, sync_to_thread=False),
        "tokens": Provide(lambda: tokens, use_cache=True, sync_to_thread=False),
        "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
        "files": Provide(lambda: c.files, use_cache=True, sync_to_thread=False),
        "writes": Provide(lambda: writes, use_cache=True, sync_to_thread=False),
        "actor": Provide(_actor, sync_to_thread=False),
    }
    limit_unauthenticated, limit_by_caller = rate_limit_middleware(
        c.api_limits, trusted_networks(settings.trusted_proxies)
    )
    app = Litestar(
        route_handlers=[
            api,
            HealthController,
            metrics_controller(
                c.uow,
                c.crm.ctx.clock,
                settings.metrics_token.get_secret_value() if settings.metrics_token else None,
            ),
            *web.route_handlers,
        ],
        dependencies=dependencies,
        middleware=[
            not_modified_middleware,
            limit_unauthenticated,
            tokens.jwt.middleware,
            web.middleware,
            log_context_middleware,
            limit_by_caller,
            prometheus.middleware,
        ],
        exception_handlers={
            DomainError: domain_error_handler,
            HTTPException: browsers_get_pages(http_error_handler),
            Exception: internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="Sales & CRM API",
            version="1.0.0",
            path="/schema",
            description="Dealer orders with atomic credit checks, ERP sync and performance figures.",
            components=[tokens.jwt.openapi_components, SIGNATURE_COMPONENTS],
            security=[tokens.jwt.security_requirement],
            render_plugins=[LocalSwaggerPlugin(), ContractJsonPlugin(), LocalRedocPlugin()],
        ),
        cors_config=_cors(settings.cors_origin_list),
        before_send=[response_headers(hsts=settings.env == "prod")],
        # Innermost on every route (inside the response cache): ETags of JSON GET answers, then gzip.
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, middleware_class=TaggingCompression),
        request_max_body_size=ATTACHMENT_BODY_LIMIT,
        stores={RESPONSE_CACHE_STORE: c.response_cache()},
        response_cache_config=ResponseCacheConfig(store=RESPONSE_CACHE_STORE),
        plugins=[
            PydanticPlugin(prefer_alias=True),
        ],
        template_config=web.template_config,
        logging_config=None,  # entrypoints.logs: one schema for every line
        state=State({"container": c, **web.state}),
        request_class=JsonRequest,
        before_request=refuse_unknown_query_parameters,
        debug=False,
    )
    resolve_in_turn(app)
    app.asgi_handler = access_log(app.asgi_handler)  # around everything: unknown paths and 401s are logged too
    return app
