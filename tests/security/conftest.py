"""Security tests (issue 12): the real app on the in-memory store with a fixed clock, and a way to choose the
connection's peer address (Litestar's test client always says `testclient`); and the same doors as the other
suites — the unit world (library), the API app on both configurations, the CLI — with fixtures shared from those
suites' conftest modules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send

from adapters.system import FixedClock
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import api
from tests.cli.conftest import crm_cli, data_dir
from tests.sms import last_code
from tests.unit.conftest import world

__all__ = ["PEER", "SecureApp", "api", "crm_cli", "data_dir", "secure_app", "with_peer", "world"]

#: A test-only header: the wrapper below makes its value the connection's peer address.
PEER = "x-test-peer"


def with_peer(app: Litestar) -> Litestar:
    """The app, its connections coming from the address in the `x-test-peer` header (when sent)."""
    inner = app.asgi_handler

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", []):
            if name == PEER.encode():
                scope["client"] = (value.decode(), 40000)
        await inner(scope, receive, send)

    app.asgi_handler = handler
    return app


class SecureApp:
    def __init__(self, container: Container, client: TestClient[Any], sms_file: Path, clock: FixedClock) -> None:
        self.container = container
        self.client = client
        self.sms_file = sms_file
        self.clock = clock
        self.admin = container.crm.users.create_admin("+919000000001", "Asha Admin")

    def last_otp(self, mobile: str) -> str:
        return last_code(self.sms_file, mobile)

    def bearer(self, mobile: str = "+919000000001", peer: str = "192.0.2.1") -> dict[str, str]:
        headers = {PEER: peer}
        assert self.client.post("/api/v1/auth/otp/request", json={"mobile": mobile}, headers=headers).status_code == 202
        verified = self.client.post(
            "/api/v1/auth/otp/verify", json={"mobile": mobile, "otp": self.last_otp(mobile)}, headers=headers
        )
        assert verified.status_code == 200, verified.text
        return {"Authorization": f"Bearer {verified.json()['access_token']}"}


@pytest.fixture
def secure_app(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[..., SecureApp]]:
    """`secure_app(**settings)`: the app with those settings on the in-memory store and the test's clock."""
    with ExitStack() as stack:

        def make(**extra: Any) -> SecureApp:
            data_dir = tmp_path / f"app{len(made)}"
            settings = Settings(database_url="memory://", data_dir=data_dir, jwt_secret="x" * 48, **extra)  # type: ignore[arg-type]
            container = bootstrap(settings, clock=clock)
            client = stack.enter_context(TestClient(with_peer(create_app(container))))
            made.append(SecureApp(container, client, data_dir / "sms.jsonl", clock))
            return made[-1]

        made: list[SecureApp] = []
        yield make
