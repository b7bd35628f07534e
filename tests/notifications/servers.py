"""Real local servers for the notification adapters: an HTTP SMS gateway (http.server in a thread) that checks
the API key and records what it takes, and an SMTP server (aiosmtpd) that records what it receives. Both listen
on 127.0.0.1 on a free port and can be told to misbehave."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.net import free_port

GATEWAY_KEY = "test-gateway-key-7f3a"


# --- the SMS gateway ----------------------------------------------------------------------------------------


@attrs.define
class SmsGateway:
    """`answer` is the status of the next requests (200 takes the message); `hang` holds every answer until the
    test ends (a gateway that never replies); `fail_next` requests answer 503 before `answer` applies again.
    `requests` counts every request that arrived, `taken` lists the messages it accepted, `headers` the headers
    of the last request."""

    url: str = ""
    answer: int = 200
    fail_next: int = 0
    hang: bool = False
    requests: int = 0
    taken: list[dict[str, Any]] = attrs.field(factory=list)
    headers: dict[str, str] = attrs.field(factory=dict)
    released: threading.Event = attrs.field(factory=threading.Event)


def _gateway_handler(gateway: SmsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            gateway.requests += 1
            gateway.headers = {k.lower(): v for k, v in self.headers.items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if gateway.hang:
                gateway.released.wait(10)
                return
            if self.headers.get("X-API-Key") != GATEWAY_KEY:
                self._reply(401, {"error": "bad key"})
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self._reply(415, {"error": "json only"})
                return
            body = json.loads(raw)
            if set(body) != {"to", "text"} or not str(body["to"]).startswith("+"):
                self._reply(422, {"error": "need to (E.164) and text"})
                return
            if gateway.fail_next > 0:
                gateway.fail_next -= 1
                self._reply(503, {"error": "busy"})
                return
            if gateway.answer != 200:
                self._reply(gateway.answer, {"error": "as told"})
                return
            gateway.taken.append(body)
            self._reply(200, {"id": f"msg-{len(gateway.taken)}"})

    return Handler


@contextmanager
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _gateway_handler(gateway))
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway.released.set()
        server.shutdown()
        server.server_close()


# --- the SMTP server ----------------------------------------------------------------------------------------


@attrs.frozen
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return str(self.message.get_content()).replace("\r\n", "\n")  # CRLF on the wire


@attrs.define
class Mailbox:
    """What the SMTP server took; `refuse` maps recipient addresses to the RCPT answer they get."""

    received: list[Received] = attrs.field(factory=list)
    refuse: dict[str, str] = attrs.field(factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, login))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@attrs.frozen
class Credentials:
    user: str
    password: str

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)


@attrs.frozen
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@contextmanager
def smtp_server(
    *,
    credentials: Credentials | None = None,
    tls: Tls | None = None,
    implicit_tls: bool = False,
) -> Iterator[SmtpServer]:
    """An aiosmtpd server. With `credentials` it requires AUTH (over TLS, as real servers do: pass `tls`);
    with `tls` it offers STARTTLS, or speaks TLS from the start with `implicit_tls`."""
    mailbox = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls is not None and implicit_tls:
        kwargs["ssl_context"] = tls.server_context()
    elif tls is not None:
        kwargs.update(tls_context=tls.server_context(), require_starttls=True)
    if credentials is not None:
        kwargs.update(authenticator=credentials, auth_required=True, auth_require_tls=tls is not None)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (no SMTP greeting, no HTTP answer)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


# --- TLS ----------------------------------------------------------------------------------------------------


@attrs.frozen
class Tls:
    """A throwaway self-signed certificate for localhost and 127.0.0.1 (made by the openssl command)."""

    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> Tls:
        openssl = shutil.which("openssl")
        if openssl is None:  # pragma: no cover - Debian images have it (ca-certificates depends on it)
            raise RuntimeError("the TLS tests need the openssl command")
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            [
                *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
                *("-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            ],
            check=True,
            capture_output=True,
        )
        return cls(cert, key)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))
