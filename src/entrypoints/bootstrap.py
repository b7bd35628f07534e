"""The composition root: the one place that reads settings and builds adapters. Both entry points (HTTP and
CLI) and the tests call `bootstrap()`; nothing connects at import time."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import attrs

from adapters.phones import PhonenumbersNormaliser
from adapters.system import SystemClock, UlidGenerator
from crm_domain.app import Crm
from crm_domain.ports import (
    Clock,
    ErpGateway,
    ErpGateways,
    FileStore,
    IdGenerator,
    OtpStore,
    RateLimiter,
    SessionStore,
    SmsSender,
    UnitOfWorkFactory,
)
from crm_domain.services.auth import AuthService
from crm_domain.services.context import ServiceContext
from crm_domain.sessions import AuthPolicy
from entrypoints.settings import MIN_SECRET_BYTES, Settings


class ConfigurationError(Exception):
    """The settings name something this build cannot run (reported as one line, exit code 2)."""


@attrs.frozen(kw_only=True)
class Container:
    settings: Settings
    crm: Crm
    uow: UnitOfWorkFactory
    auth: AuthService
    sms: SmsSender
    jwt_secret: str
    files: FileStore
    erp: ErpGateways


def build_store(settings: Settings, clock: Clock | None = None) -> UnitOfWorkFactory:
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        from adapters.sqlite import SqliteStore

        return SqliteStore(Path(url.removeprefix("sqlite:///")), clock=clock)
    if url.startswith("memory://"):
        from adapters.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigurationError("the MongoDB store is not part of this build yet; use sqlite:///PATH")
    raise ConfigurationError(f"CRM_DATABASE_URL must be sqlite:///PATH, mongodb://… or memory://, got {url!r}")


def bootstrap(
    settings: Settings | None = None,
    *,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Container:
    """Build everything from `settings` (read from the environment when omitted); tests pass fakes."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    store = uow or build_store(settings, clock)
    ctx = ServiceContext(
        uow=store,
        clock=clock,
        ids=ids or UlidGenerator(),
        mobiles=PhonenumbersNormaliser(),
        config=settings.domain_config(),
    )
    secret = jwt_secret(settings)
    otps, sessions, limiter = build_runtime(settings, store, clock)
    sms = build_sms(settings, clock)
    auth = AuthService(
        ctx,
        otps=otps,
        sessions=sessions,
        limiter=limiter,
        sms=sms,
        otp_key=hmac.new(secret.encode(), b"crm-otp-key", hashlib.sha256).digest(),
        policy=AuthPolicy(otp_ttl=settings.otp_ttl, refresh_ttl=settings.refresh_ttl),
    )
    return Container(
        settings=settings,
        crm=Crm(ctx),
        uow=store,
        auth=auth,
        sms=sms,
        jwt_secret=secret,
        files=build_files(settings),
        erp=build_erp(settings, clock),
    )


def build_runtime(
    settings: Settings, store: UnitOfWorkFactory, clock: Clock
) -> tuple[OtpStore, SessionStore, RateLimiter]:
    """OTP, session and rate-limit stores: Redis when configured, else the embedded store's own tables
    (shared by every worker process), else in-process (memory://, tests)."""
    if settings.redis_url:
        raise ConfigurationError("the Redis adapters are not part of this build yet; unset CRM_REDIS_URL")
    from adapters.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from adapters.sqlite.runtime import sqlite_runtime

        return sqlite_runtime(store, clock)
    from adapters.memory.runtime import MemoryOtpStore, MemoryRateLimiter, MemorySessionStore

    return MemoryOtpStore(clock), MemorySessionStore(), MemoryRateLimiter(clock)


def build_sms(settings: Settings, clock: Clock) -> SmsSender:
    from adapters.sms.log import FileSmsSender, LogSmsSender, TeeSmsSender

    backend = settings.sms_backend
    if backend == "log":
        return TeeSmsSender(LogSmsSender(), FileSmsSender(settings.data_dir / "sms.jsonl", clock))
    if backend.startswith("file:"):
        return TeeSmsSender(LogSmsSender(), FileSmsSender(Path(backend.removeprefix("file:")), clock))
    raise ConfigurationError("CRM_SMS_BACKEND=http:… is not part of this build yet; use log or file:PATH")


def build_erp(settings: Settings, clock: Clock) -> ErpGateways:
    """The ERP gateways by name. The sandbox is always there (the embedded default and the demo's ERP); it keeps
    its state in DATA_DIR/sandbox-erp.db so the API, the worker and `crm erp sandbox` share it (in memory for
    memory:// stores)."""
    from adapters.erp import ErpRouter
    from adapters.erp.sandbox import SandboxErp

    in_memory = settings.effective_database_url.startswith("memory://")
    gateways: dict[str, ErpGateway] = {
        "sandbox": SandboxErp(None if in_memory else settings.data_dir / "sandbox-erp.db", clock),
    }
    return ErpRouter(gateways)


def build_files(settings: Settings) -> FileStore:
    """Order attachments: a local directory (`CRM_FILES_DIR`, default DATA_DIR/files)."""
    from adapters.files import LocalFileStore

    return LocalFileStore(settings.effective_files_dir)


def jwt_secret(settings: Settings) -> str:
    """The configured secret; in dev without one, a random secret generated once and kept in the data dir."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        value = settings.jwt_secret.get_secret_value()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"CRM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value
    path = settings.data_dir / "jwt-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it right now
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.02)
        raise ConfigurationError(f"{path} is empty; delete it to generate a new secret") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _check_protocols() -> None:  # pragma: no cover - for mypy only
    from adapters.memory import MemoryStore

    _: UnitOfWorkFactory = MemoryStore()
