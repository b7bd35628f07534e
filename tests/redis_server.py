"""Real `redis-server` processes for the tests (SPEC §10: never fakeredis): one server, or a three-node Redis
Cluster, on free loopback ports with a temporary directory and no persistence.

Fixtures (imported by tests/conftest.py):
- `redis_url` (session): a server started once per test process; without the `redis-server` binary, the URL
  in `CRM_TEST_REDIS_URL`. Tests keep apart by key prefix (`redis_prefix`), so a shared server is not flushed.
- `redis_cluster_url` (session): a local three-node cluster; without the binary, `CRM_TEST_REDIS_CLUSTER_URL`.
- `redis_server_factory`: servers a test may stop and restart on the same port (outage tests); needs the
  binary.
Neither the binary nor the variable: the test fails and says what to install; nothing is skipped.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

BINARY = "redis-server"
START_TIMEOUT = 10.0
CLUSTER_TIMEOUT = 30.0


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, with_bus: bool = False) -> int:
    """A free loopback port; with `with_bus`, port + 10000 (the cluster bus) is free as well."""
    for _ in range(200):
        port = random.randint(20000, 55000 - 1)
        if _bindable(port) and (not with_bus or _bindable(port + 10000)):
            return port
    raise RuntimeError("no free port found")


class RedisServer:
    """One redis-server process; `stop()` and `start()` again keep the port (and lose the data)."""

    def __init__(self, directory: Path, *, cluster: bool = False, tls: bool = False) -> None:
        self.directory = directory
        self.cluster = cluster
        self.tls = tls
        self.port = free_port(with_bus=cluster)
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        if self.tls:
            return f"rediss://127.0.0.1:{self.port}?ssl_ca_certs={self.directory / 'ca.pem'}"
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            BINARY,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        if self.tls:
            make_certificates(self.directory)
            args[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", str(self.directory / "server.pem")]
            args += ["--tls-key-file", str(self.directory / "server.key")]
            args += ["--tls-ca-cert-file", str(self.directory / "ca.pem"), "--tls-auth-clients", "no"]
        if self.cluster:
            args += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.directory}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {START_TIMEOUT} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def make_certificates(directory: Path) -> None:
    """A throw-away CA and a server certificate for 127.0.0.1 (openssl), unless they exist already."""
    if (directory / "server.pem").exists():
        return

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, capture_output=True, check=True, timeout=60)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=crm-test-ca",
        "-keyout", "ca.key", "-out", "ca.pem",
    )  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "s.csr")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.pem",
    )  # fmt: skip


def _require_binary(variable: str) -> None:
    pytest.fail(
        f"the Redis tests need `{BINARY}` on PATH (apt-get install redis-server) or {variable} set to a Redis"
        " they may write to",
        pytrace=False,
    )


def start_cluster(directory: Path, nodes: int = 3) -> list[RedisServer]:
    """Three masters sharing the 16384 slots, created with `redis-cli --cluster create`."""
    servers = [RedisServer(directory / f"node-{i}", cluster=True) for i in range(nodes)]
    try:
        for server in servers:
            server.start()
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{s.port}" for s in servers), "--cluster-yes"],
            capture_output=True,
            check=True,
            timeout=CLUSTER_TIMEOUT,
        )
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        for server in servers:
            client = redis.Redis(port=server.port, socket_timeout=1, decode_responses=True)
            try:
                while client.cluster("info")["cluster_state"] != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the test cluster did not reach cluster_state:ok")
                    time.sleep(0.1)
            finally:
                client.close()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which(BINARY) is None:
        url = os.environ.get("CRM_TEST_REDIS_URL")
        if not url:
            _require_binary("CRM_TEST_REDIS_URL")
        yield str(url)
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which(BINARY) is None or shutil.which("redis-cli") is None:
        url = os.environ.get("CRM_TEST_REDIS_CLUSTER_URL")
        if not url:
            _require_binary("CRM_TEST_REDIS_CLUSTER_URL")
        yield str(url)
        return
    servers = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield f"redis+cluster://127.0.0.1:{servers[0].port}"
    for server in servers:
        server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so tests sharing a server never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    if shutil.which(BINARY) is None:
        _require_binary("(a server this test can stop: no variable will do)")
    servers: list[RedisServer] = []

    def make(*, tls: bool = False) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}", tls=tls)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()
