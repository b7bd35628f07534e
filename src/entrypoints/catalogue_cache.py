"""The catalogue version of the API's response cache (see `entrypoints.http.controllers.products`): a random token
in the response-cache store that every cached catalogue answer's key carries. The API replaces it after its own
catalogue writes; the command line replaces it after an import or an ERP sync of products, so the next
`GET /products` of every server process reads the store at once instead of serving old prices from the cache."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from litestar.stores.base import Store

    from entrypoints.bootstrap import Container

VERSION_KEY: Final = "catalogue-version"


async def new_catalogue_version(store: Store) -> None:
    """Replace the token: cached catalogue answers under the old one are never read again."""
    await store.set(VERSION_KEY, secrets.token_hex(8))


def catalogue_changed(container: Container) -> None:
    """From outside the API (a `crm` command): the catalogue changed in the store; let the API's cache know."""

    async def bump() -> None:
        store = container.response_cache()
        try:
            await new_catalogue_version(store)
        finally:
            with contextlib.suppress(Exception):  # a Redis store lets go of its connection; others have none
                await store.__aexit__(None, None, None)

    asyncio.run(bump())
