"""What both local ERP peers share: a threaded HTTP server on 127.0.0.1 (a free port), started and stopped by a
fixture, and the knobs tests turn: fail the next N requests, delay them, or answer them with a malformed body.
Every peer also collects `problems` (a request that broke the contract, an answer the peer could not build);
the fixtures fail the test when any is left."""

from __future__ import annotations

import socket
import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and left is expected
            super().handle_error(request, client_address)


class Knobs:
    """Misbehaviour queued for the next requests, consumed one per request in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, Any]] = deque()

    def push(self, kind: str, value: Any = None, times: int = 1) -> None:
        with self._lock:
            self._queue.extend([(kind, value)] * times)

    def pop(self) -> tuple[str, Any] | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None


class Peer:
    """Base of the fake ERPs. Subclasses implement `handle(handler, method)`."""

    def __init__(self) -> None:
        self.knobs = Knobs()
        self.problems: list[str] = []
        self.lock = threading.RLock()
        self.released = threading.Event()  # set on stop: delayed answers stop waiting
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- test controls --------------------------------------------------------------------------------------

    def fail_next(self, times: int = 1, how: str = "default") -> None:
        self.knobs.push("fail", how, times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        self.knobs.push("delay", seconds, times)

    def malformed_next(self, how: str, times: int = 1) -> None:
        self.knobs.push("malformed", how, times)

    # --- lifecycle ------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms a call
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                peer.dispatch(self, "GET")

            def do_POST(self) -> None:
                peer.dispatch(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- request handling -------------------------------------------------------------------------------------

    def dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        try:
            self.handle(handler, method)
        except ConnectionError:
            pass  # the client gave up (a timeout test): nobody to answer
        except Exception as exc:  # noqa: BLE001  # a peer bug must fail the test, not hang the client
            self.problems.append(f"peer crashed: {type(exc).__name__}: {exc}")
            send(handler, 599, b"peer crashed", "text/plain")

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def wait(self, seconds: float) -> None:
        self.released.wait(seconds)


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)
