"""The composition root: the one place that reads settings and builds adapters. Both entry points (HTTP and
CLI) and the tests call `bootstrap()`; nothing connects at import time."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs

from adapters.owner_only import FILE_MODE, close_data_dir, owner_only_dir
from adapters.phones import PhonenumbersNormaliser
from adapters.system import SystemClock, UlidGenerator
from crm_domain.app import Crm
from crm_domain.ports import (
    Clock,
    DigestRenderer,
    EmailSender,
    ErpCreditManagement,
    ErpGateway,
    ErpGateways,
    FileStore,
    IdGenerator,
    OtpStore,
    OutboxHandler,
    RateLimiter,
    SessionStore,
    SmsSender,
    UnitOfWorkFactory,
)
from crm_domain.services.api_limits import ApiLimits, ApiRates
from crm_domain.services.auth import AuthService
from crm_domain.services.context import ServiceContext
from crm_domain.services.delivery import BreakerSettings, OutboxDispatcher
from crm_domain.services.live_credit import LiveCredit
from crm_domain.sessions import AuthPolicy
from entrypoints.ports import Clocks, SandboxErpDriver, StoreMaintenance, Writes
from entrypoints.settings import MIN_SECRET_BYTES, Settings

if TYPE_CHECKING:
    from litestar.stores.base import Store
    from pydantic import SecretStr

    from adapters.redis import RedisConnection
    from crm_domain.services.erp_commitments import CommitmentHandler


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
    #: A new write path of the hot use cases, one per app: batched on the event loop on SQLite, else threads.
    writes: Callable[[], Writes]
    #: A new response-cache store, one per app: Redis when configured, else files in the data directory.
    response_cache: Callable[[], Store]
    #: Migrations or indexes, and the recovery sweep, of the store.
    maintenance: StoreMaintenance
    #: The sandbox ERP, to drive by hand (`crm erp sandbox …`); None when "sandbox" is routed elsewhere.
    sandbox: SandboxErpDriver | None
    #: The demo's clocks: the wall clock and settable ones.
    clocks: Clocks
    #: The API rate limits (per user, per anonymous address), counted in the shared rate-limit store.
    api_limits: ApiLimits
    #: The managers' daily digest as an e-mail (subject, text, HTML).
    digest_renderer: DigestRenderer | None = None
    #: Dependencies readiness checks besides the store, by name (e.g. "redis"): each raises when it is down.
    probes: Mapping[str, Callable[[], None]] = attrs.field(factory=dict)


def build_store(settings: Settings, clock: Clock | None = None, ids: IdGenerator | None = None) -> UnitOfWorkFactory:
    """The store of `CRM_DATABASE_URL`; `ids` names the outbox messages its commits write (the services' ids)."""
    url = settings.effective_database_url
    tz = ZoneInfo(settings.timezone)  # the company time zone: days of the reports' sales buckets
    if url.startswith("sqlite:///"):
        from adapters.sqlite import SqliteStore

        return SqliteStore(
            Path(url.removeprefix("sqlite:///")), clock=clock, ids=ids, synchronous=settings.sqlite_synchronous, tz=tz
        )
    if url.startswith("memory://"):
        from adapters.memory import MemoryStore

        return MemoryStore(ids=ids, tz=tz)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from adapters.mongo import MongoStore

        return MongoStore.from_url(url, clock=clock, ids=ids, tz=tz)  # bounded timeouts; connects on first use
    raise ConfigurationError(f"CRM_DATABASE_URL must be sqlite:///PATH, mongodb://… or memory://, got {url!r}")


def store_kind(store: UnitOfWorkFactory) -> str:
    """The store's name in the metrics: sqlite, mongodb or memory (or the class of one a test passed)."""
    from adapters.memory import MemoryStore
    from adapters.mongo import MongoStore
    from adapters.sqlite import SqliteStore

    kinds: dict[type, str] = {SqliteStore: "sqlite", MongoStore: "mongodb", MemoryStore: "memory"}
    return kinds.get(type(store), type(store).__name__.lower())


def store_maintenance(settings: Settings) -> StoreMaintenance:
    """The maintenance of the configured store, on a store of its own (`crm db init` builds nothing else)."""
    from entrypoints.wiring.store import maintenance_for

    return maintenance_for(build_store(settings))


def bootstrap(
    settings: Settings | None = None,
    *,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
) -> Container:
    """Build everything from `settings` (read from the environment when omitted); tests pass fakes."""
    settings = settings or Settings()
    close_data_dir(settings.data_dir)
    clock = clock or SystemClock()
    ids = ids or UlidGenerator()
    store = uow or build_store(settings, clock, ids)
    from adapters.metrics import SIGN_IN_CODES, MeteredSmsSender, MeteredStore

    ctx = ServiceContext(
        uow=MeteredStore(store, store_kind(store)),  # commits timed (the metrics of SPEC §9)
        clock=clock,
        ids=ids,
        mobiles=PhonenumbersNormaliser(),
        config=settings.domain_config(),
    )
    secret = jwt_secret(settings)
    redis = build_redis(settings)
    otps, sessions, limiter = build_runtime(settings, store, clock, redis)
    gateways = build_sms_gateways(settings, clock)
    sms = sms_sender(gateways)
    auth = AuthService(
        ctx,
        otps=otps,
        sessions=sessions,
        limiter=limiter,
        sms=MeteredSmsSender(sms_sender(gateways, sign_in=True), SIGN_IN_CODES),
        otp_key=hmac.new(secret.encode(), b"crm-otp-key", hashlib.sha256).digest(),
        policy=AuthPolicy(otp_ttl=settings.otp_ttl, refresh_ttl=settings.refresh_ttl),
    )
    from entrypoints.wiring.cli import DemoClocks, sandbox_driver
    from entrypoints.wiring.http import response_cache_store, writes_for
    from entrypoints.wiring.store import maintenance_for

    erp = build_erp(settings, clock)
    return Container(
        settings=settings,
        crm=Crm(ctx, live_credit=build_live_credit(settings, clock, erp)),
        uow=store,
        auth=auth,
        sms=sms,
        jwt_secret=secret,
        files=build_files(settings, store),
        erp=erp,
        writes=lambda: writes_for(store, ctx),
        response_cache=lambda: response_cache_store(settings),
        maintenance=maintenance_for(store),
        sandbox=sandbox_driver(erp),
        clocks=DemoClocks(),
        api_limits=ApiLimits(limiter, ApiRates(per_user=settings.api_rate, per_address=settings.anon_api_rate)),
        probes={"redis": redis.ping} if redis is not None else {},
        digest_renderer=build_digest_renderer(settings),
    )


def build_digest_renderer(settings: Settings) -> DigestRenderer:
    from adapters.email.digest import JinjaDigestRenderer

    return JinjaDigestRenderer(ZoneInfo(settings.timezone))


def build_redis(settings: Settings) -> RedisConnection | None:
    """The Redis (or Redis Cluster) connection of `CRM_REDIS_URL`, or None; nothing connects yet."""
    if not settings.redis_url:
        return None
    from adapters.redis import RedisConnection

    try:
        return RedisConnection(settings.redis_url)
    except ValueError as exc:  # the message names the accepted forms, never the URL (it may hold a password)
        raise ConfigurationError(str(exc)) from None


def build_runtime(
    settings: Settings, store: UnitOfWorkFactory, clock: Clock, redis: RedisConnection | None = None
) -> tuple[OtpStore, SessionStore, RateLimiter]:
    """OTP, session and rate-limit stores: Redis when configured, else the embedded store's own tables
    (shared by every worker process), else in-process (memory://, tests)."""
    redis = redis or build_redis(settings)
    if redis is not None:
        from adapters.redis import redis_runtime

        return redis_runtime(redis, clock)
    from adapters.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from adapters.sqlite.runtime import sqlite_runtime

        return sqlite_runtime(store, clock)
    from adapters.memory.runtime import MemoryOtpStore, MemoryRateLimiter, MemorySessionStore

    return MemoryOtpStore(clock), MemorySessionStore(), MemoryRateLimiter(clock)


def build_sms(settings: Settings, clock: Clock) -> SmsSender:
    """The SMS sender of the notifications: the gateway of `CRM_SMS_BACKEND`, then the fallback's if configured."""
    return sms_sender(build_sms_gateways(settings, clock))


def sms_sender(gateways: list[SmsSender], *, sign_in: bool = False) -> SmsSender:
    """One try of each gateway in turn; for sign-in codes up to three rounds with a short backoff, within a
    budget of seconds (`adapters.sms.failover`)."""
    from adapters.sms.failover import SIGN_IN_ATTEMPTS, SIGN_IN_BACKOFF, FailoverSmsSender

    if sign_in:
        return FailoverSmsSender(gateways, attempts=SIGN_IN_ATTEMPTS, backoff=SIGN_IN_BACKOFF)
    return FailoverSmsSender(gateways)


def build_sms_gateways(settings: Settings, clock: Clock) -> list[SmsSender]:
    """The primary gateway and the fallback (when configured), each counted in `crm_sms_gateway_sends_total`."""
    from adapters.metrics import SMS_GATEWAY_SENDS, MeteredSmsSender

    primary = build_sms_gateway(settings, clock, settings.sms_backend, settings.sms_api_key, "CRM_SMS")
    gateways: list[SmsSender] = [MeteredSmsSender(primary, SMS_GATEWAY_SENDS, gateway="primary")]
    if settings.sms_fallback_backend:
        fallback = build_sms_gateway(
            settings, clock, settings.sms_fallback_backend, settings.sms_fallback_api_key, "CRM_SMS_FALLBACK"
        )
        gateways.append(MeteredSmsSender(fallback, SMS_GATEWAY_SENDS, gateway="fallback"))
    return gateways


def build_sms_gateway(
    settings: Settings, clock: Clock, backend: str, api_key: SecretStr | None, prefix: str
) -> SmsSender:
    from adapters.sms.log import FileSmsSender, LogSmsSender, TeeSmsSender

    if backend == "log":
        return TeeSmsSender(LogSmsSender(), FileSmsSender(settings.data_dir / "sms.jsonl", clock))
    if backend.startswith("file:"):
        return TeeSmsSender(LogSmsSender(), FileSmsSender(Path(backend.removeprefix("file:")), clock))
    return build_http_sms(settings, backend, api_key, prefix)


def build_http_sms(settings: Settings, backend: str, api_key: SecretStr | None, prefix: str = "CRM_SMS") -> SmsSender:
    """`http:URL` (or a bare http(s):// URL): the generic JSON gateway, keyed by `{prefix}_API_KEY`."""
    from adapters.sms.http import HttpSmsSender

    url = backend if backend.startswith(("http://", "https://")) else backend.removeprefix("http:")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{prefix}_BACKEND=http:URL must name an http:// or https:// URL")
    key = api_key.get_secret_value() if api_key else ""
    if not key:
        raise ConfigurationError(f"{prefix}_BACKEND=http:… needs {prefix}_API_KEY")
    return HttpSmsSender(url, key, timeout=settings.sms_timeout)


def build_email(settings: Settings, clock: Clock) -> EmailSender:
    """SMTP when `CRM_SMTP_URL` is set; else the log plus DATA_DIR/email.jsonl (development)."""
    smtp_url = settings.smtp_url.get_secret_value() if settings.smtp_url else ""
    if smtp_url:
        from adapters.email.smtp import SmtpEmailSender

        try:
            return SmtpEmailSender.from_url(smtp_url, settings.mail_from)
        except ValueError as exc:  # the message never contains the password
            raise ConfigurationError(str(exc)) from None
    from adapters.email.log import FileEmailSender, LogEmailSender, TeeEmailSender

    return TeeEmailSender(LogEmailSender(), FileEmailSender(settings.data_dir / "email.jsonl", clock))


def build_erp(settings: Settings, clock: Clock) -> ErpGateways:
    """The ERP gateways by name. The sandbox is always there (the embedded default and the demo's ERP); it keeps
    its state in DATA_DIR/sandbox-erp.db so the API, the worker and `crm erp sandbox` share it (in memory for
    memory:// stores)."""
    from adapters.erp import ErpRouter
    from adapters.erp.sandbox import SandboxErpGateway
    from adapters.metrics import MeteredErpGateway

    in_memory = settings.effective_database_url.startswith("memory://")
    sandbox = SandboxErpGateway(
        None if in_memory else settings.data_dir / "sandbox-erp.db",
        clock,
        latency=settings.sandbox_erp_latency_ms / 1000,
        outage_file=settings.sandbox_erp_outage_file,
    )
    gateways: dict[str, ErpGateway] = {"sandbox": sandbox, **_remote_erps(settings, timeout=settings.erp_timeout)}
    return ErpRouter({name: MeteredErpGateway(gateway) for name, gateway in gateways.items()})


def _remote_erps(settings: Settings, *, timeout: float) -> dict[str, ErpGateway]:
    """The configured SAP and GenNext gateways, each call bounded by `timeout` seconds."""
    gateways: dict[str, ErpGateway] = {}
    if settings.sap_wsdl:
        from adapters.erp.sap import BUNDLED_WSDL, SapErpGateway

        gateways["sap"] = SapErpGateway(
            str(BUNDLED_WSDL) if settings.sap_wsdl == "bundled" else settings.sap_wsdl,
            username=settings.sap_username,
            password=settings.sap_password.get_secret_value() if settings.sap_password else None,
            ws_security=settings.sap_ws_security,
            timeout=timeout,
            endpoint=settings.sap_endpoint,
        )
    if settings.gennext_url:
        from adapters.erp.gennext import GenNextErpGateway

        if settings.gennext_api_key is None:
            raise ConfigurationError("CRM_GENNEXT_URL is set but CRM_GENNEXT_API_KEY is not")
        gateways["gennext"] = GenNextErpGateway(
            settings.gennext_url, settings.gennext_api_key.get_secret_value(), timeout=timeout
        )
    return gateways


def build_live_credit(settings: Settings, clock: Clock, erp: ErpGateways) -> LiveCredit | None:
    """The live reads at the credit check (SPEC §8 request-reply): a gateway per ERP of `CRM_LIVE_BALANCE` with the
    short `CRM_LIVE_CREDIT_TIMEOUT_MS` (the sandbox is in-process: its own), SAP's credit check when
    `CRM_SAP_CREDIT_CHECK`; a breaker per ERP with the worker's settings. None when nothing is read live."""
    from datetime import timedelta

    wanted = settings.live_balance_erps
    if not wanted and not settings.sap_credit_check:
        return None
    remote = _remote_erps(settings, timeout=settings.live_credit_timeout_ms / 1000)
    missing = sorted(name for name in wanted if name != "sandbox" and name not in remote)
    if missing or (settings.sap_credit_check and "sap" not in remote):
        names = ", ".join(missing or ["sap"])
        raise ConfigurationError(f"live credit reads need the ERP configured: {names} (CRM_SAP_WSDL / CRM_GENNEXT_URL)")
    from adapters.metrics import MeteredErpGateway

    balances = {name: MeteredErpGateway(remote[name]) if name in remote else erp.for_system(name) for name in wanted}
    verdicts: dict[str, ErpCreditManagement] = {}
    if settings.sap_credit_check:
        from adapters.erp.sap import SapErpGateway

        sap = remote["sap"]
        assert isinstance(sap, SapErpGateway)
        verdicts["sap"] = sap
    return LiveCredit(
        clock=clock,
        balances=balances,
        verdicts=verdicts,
        breaker=BreakerSettings(
            failures=settings.erp_breaker_failures, cool_down=timedelta(seconds=settings.erp_breaker_cooldown)
        ),
    )


def build_handlers(container: Container) -> list[OutboxHandler]:
    """The outbox handlers `crm worker` delivers to: ERP sync, then the notifications (SMS, e-mail)."""
    from adapters.metrics import NOTIFICATIONS, MeteredEmailSender, MeteredSmsSender
    from crm_domain.services.digest import DigestHandler
    from crm_domain.services.erp_sync import ErpSyncHandler
    from crm_domain.services.notifications import notification_handlers

    ctx = container.crm.ctx
    sms = MeteredSmsSender(container.sms, NOTIFICATIONS, channel="sms")
    email = MeteredEmailSender(build_email(container.settings, ctx.clock))
    renderer = container.digest_renderer or build_digest_renderer(container.settings)
    handlers: list[OutboxHandler] = [ErpSyncHandler(ctx, container.erp)]
    commitments = build_commitments(container)
    if commitments is not None:
        handlers.append(commitments)
    return [*handlers, *notification_handlers(ctx, sms, email), DigestHandler(ctx, email, renderer)]


def build_commitments(container: Container) -> CommitmentHandler | None:
    """The handler reporting SAP customers' open orders to SAP Credit Management (`CRM_SAP_COMMITMENTS`)."""
    if not container.settings.sap_commitments:
        return None
    from adapters.erp.sap import SapErpGateway
    from adapters.metrics import MeteredErpGateway
    from crm_domain.services.erp_commitments import CommitmentHandler

    sap = container.erp.for_system("sap") if container.settings.sap_wsdl else None
    if isinstance(sap, MeteredErpGateway):
        sap = sap.inner
    if not isinstance(sap, SapErpGateway):
        raise ConfigurationError("CRM_SAP_COMMITMENTS needs SAP configured (CRM_SAP_WSDL)")
    return CommitmentHandler(container.crm.ctx, "sap", sap)


def build_dispatcher(container: Container) -> OutboxDispatcher:
    """The outbox dispatcher of `crm worker`, with its retry policy, circuit breakers and lease from settings."""
    from datetime import timedelta

    from crm_domain.outbox import RetryPolicy

    settings = container.settings
    return OutboxDispatcher(
        container.crm.ctx,
        build_handlers(container),
        policy=RetryPolicy(
            base_seconds=settings.outbox_retry_base,
            cap_seconds=settings.outbox_retry_cap,
            max_attempts=settings.outbox_max_attempts,
        ),
        breaker=BreakerSettings(
            failures=settings.erp_breaker_failures, cool_down=timedelta(seconds=settings.erp_breaker_cooldown)
        ),
        lease=timedelta(seconds=settings.outbox_lease),
    )


def build_files(settings: Settings, store: UnitOfWorkFactory | None = None) -> FileStore:
    """Order attachments: GridFS in the store's database when the store is MongoDB, else a local directory
    (`CRM_FILES_DIR`, default DATA_DIR/files)."""
    from adapters.mongo import GridFsFileStore, MongoStore

    if isinstance(store, MongoStore):
        return GridFsFileStore(store.db)
    from adapters.files import LocalFileStore

    return LocalFileStore(settings.effective_files_dir)


def jwt_secret(settings: Settings) -> str:
    """The configured secret; in dev without one, a random secret generated once and kept in the data dir."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        value = settings.jwt_secret.get_secret_value()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"CRM_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value
    path = owner_only_dir(settings.data_dir) / "jwt-secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
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
