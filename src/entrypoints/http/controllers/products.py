"""/api/v1/products: the catalogue. Reads are open to everyone signed in and cached; writes are admin's.

Caching (SPEC §4, §11). The catalogue is the same for every user, so Litestar's response cache (keyed on the
URL) is safe here. Every cache key also carries the *catalogue version*, a random token kept in the cache
store: `CatalogueVersion` reads it before a GET looks in the cache, and replaces it after a successful write
commits but before the client gets the answer. The next GET therefore builds a new key and reads the store;
entries under the old version are never read again and expire. Because the token lives in the cache store,
every worker process that shares that store sees the change at once (a file store in the data directory by
default, Redis once configured; `memory://` (tests) keeps it in-process: the composition root chooses, see
`Container.response_cache`).
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, patch, post
from litestar.config.response_cache import default_cache_key_builder
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from crm_domain.records import PageRequest
from entrypoints.catalogue_cache import VERSION_KEY, new_catalogue_version
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.list_params import Search, UpdatedSince, since, text_query
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.products import ProductIn, ProductOut, ProductPatchIn

CACHE_SECONDS: Final = 30
RESPONSE_CACHE_STORE: Final = "response_cache"
_VERSION_STATE: Final = "catalogue_version"

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (default 50, at most 200).")]
Cursor = Annotated[str | None, QueryParameter(required=False, max_length=512, description="From `next_cursor`.")]
SkuPath = Annotated[str, PathParameter(description="The SKU (it may contain '/').", max_length=65)]


class CatalogueVersion(ASGIMiddleware):
    """Reads the catalogue version for GETs; replaces it once a write has succeeded (before the answer leaves)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        app = scope["litestar_app"]
        store = app.response_cache_config.get_store_from_app(app)
        if scope.get("method") == "GET":
            version = await store.get(VERSION_KEY)
            if version is None:  # first read, or the store was emptied: any new token is safe
                version = secrets.token_hex(8).encode()
                await store.set(VERSION_KEY, version)
            scope.setdefault("state", {})[_VERSION_STATE] = version.decode()
            await next_app(scope, receive, _send_copies(send))
            return

        async def send_after_bump(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                await new_catalogue_version(store)
                await _forget_expired(store)
            await send(message)

        await next_app(scope, receive, send_after_bump)


async def _forget_expired(store: Store) -> None:
    """Entries under older versions are never read again: drop the expired ones (Redis expires keys itself).
    Housekeeping only: a file another worker is writing right now must not fail the write's answer."""
    if isinstance(store, MemoryStore | FileStore):
        with contextlib.suppress(OSError, ValueError):
            await store.delete_expired()


def _send_copies(send: Send) -> Send:
    """Pass on copies: the response cache keeps the very message objects it sends, and middleware further out
    (X-Request-ID, CORS) add headers to the messages they get; those must not end up in the cache."""

    async def send_copy(message: Message) -> None:
        copy: dict[str, Any] = dict(message)
        if "headers" in copy:
            copy["headers"] = list(copy["headers"])
        await send(copy)  # type: ignore[arg-type]

    return send_copy


def catalogue_cache_key(request: Request[Any, Any, Any]) -> str:
    """URL and query (Litestar's default), the catalogue version, and whether the cached body may be gzipped
    (the compression middleware sits inside the cache, so a gzipped body must not reach a client without it)."""
    version = request.state.get(_VERSION_STATE, "none")
    encoding = "gzip" if "gzip" in request.headers.get("accept-encoding", "") else "identity"
    return f"catalogue:{version}:{encoding}:{default_cache_key_builder(request)}"


class ProductController(Controller):
    path = "/products"
    tags = ["products"]
    middleware = [CatalogueVersion()]

    @get(
        "/",
        operation_id="listProducts",
        sync_to_thread=True,
        cache=CACHE_SECONDS,
        cache_key_builder=catalogue_cache_key,
        summary="The catalogue by SKU; `q` finds products by SKU or name (cached briefly; a write is visible on the "
        "next read)",
    )
    def list_products(
        self,
        crm: CrmDep,
        actor: ActorDep,
        active: Annotated[
            bool | None,
            QueryParameter(description="true: active products only; false: inactive only (pages may come back short)."),
        ] = None,
        q: Search = None,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[ProductOut]:
        page = crm.catalogue.list(
            actor,
            PageRequest(limit=limit, cursor=cursor),
            active_only=active is True,
            text=text_query(q),
            updated_since=since(updated_since),
        )
        items = [p for p in page.items if active is not False or not p.active]
        return Page[ProductOut](items=[ProductOut.of(p) for p in items], next_cursor=page.next_cursor)

    @get(
        "/{sku:path}",
        operation_id="getProduct",
        sync_to_thread=True,
        cache=CACHE_SECONDS,
        cache_key_builder=catalogue_cache_key,
        summary="One product (cached briefly; a write is visible on the next read)",
    )
    def get_product(self, crm: CrmDep, actor: ActorDep, sku: SkuPath) -> ProductOut:
        return ProductOut.of(crm.catalogue.get(actor, sku.lstrip("/")))

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createProduct",
        sync_to_thread=True,
        summary="Add a product (admin)",
    )
    def create(self, crm: CrmDep, actor: ActorDep, data: JSONBody[ProductIn]) -> ProductOut:
        return ProductOut.of(crm.catalogue.create(actor, data.command()))

    @patch(
        "/{sku:path}",
        status_code=HTTP_200_OK,
        operation_id="updateProduct",
        sync_to_thread=True,
        summary="Change a product's name, unit, price, tax rate, ERP id, minimum quantity or active flag (admin)",
    )
    def update(self, crm: CrmDep, actor: ActorDep, sku: SkuPath, data: JSONBody[ProductPatchIn]) -> ProductOut:
        return ProductOut.of(crm.catalogue.update(actor, sku.lstrip("/"), data.changes()))
