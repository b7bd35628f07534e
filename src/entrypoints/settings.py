"""Settings from `CRM_*` environment variables, read once by pydantic-settings (SPEC §7)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm_domain.config import DomainConfig
from crm_domain.credit import CreditPolicy
from crm_domain.credit_governance import CreditBounds

MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    #: Environment variables first, then a `.env` file in the working directory (`.env.example` lists them all).
    model_config = SettingsConfigDict(
        env_prefix="CRM_", extra="ignore", frozen=True, env_file=".env", env_file_encoding="utf-8"
    )

    env: Literal["dev", "prod"] = "dev"
    data_dir: Path = Path("crm-data")
    database_url: str | None = Field(
        default=None, description="sqlite:///PATH (default: DATA_DIR/crm.db), mongodb://… or memory://"
    )
    redis_url: str | None = None
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "crm"
    jwt_audience: str = "crm-api"
    access_ttl: int = Field(default=900, gt=0, description="access token lifetime, seconds")
    refresh_ttl: int = Field(default=30 * 24 * 3600, gt=0, description="refresh token lifetime, seconds")
    otp_ttl: int = Field(default=300, gt=0, description="OTP lifetime, seconds")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated CIDRs of the proxies whose X-Forwarded-For / Forwarded are believed",
    )
    api_rate: int = Field(default=1200, gt=0, description="API requests a minute for each signed-in user")
    anon_api_rate: int = Field(
        default=300, gt=0, description="API requests a minute for anonymous callers, per address"
    )
    sms_backend: str = "log"
    sms_api_key: SecretStr | None = None
    sms_fallback_backend: str | None = Field(
        default=None, description="a second SMS gateway, tried when the first cannot take a message"
    )
    sms_fallback_api_key: SecretStr | None = None
    sms_timeout: float = Field(default=3.0, gt=0, le=30, description="seconds per HTTP SMS gateway request")
    smtp_url: SecretStr | None = Field(
        default=None, description="smtp://[user:pass@]host[:port][?starttls=true] or smtps://… (implicit TLS)"
    )
    mail_from: str = Field(default="CRM <crm@localhost>", description="From address of notification e-mails")
    digest_hour: int = Field(
        default=7,
        ge=0,
        le=24,
        description="local hour from which `crm worker` sends the managers' daily digest (24: never)",
    )
    sap_wsdl: str | None = None
    sap_username: str | None = None
    sap_password: SecretStr | None = None
    sap_ws_security: bool = Field(default=False, description="send SAP credentials as a WS-Security UsernameToken")
    sap_endpoint: str | None = Field(default=None, description="scheme://host:port replacing the WSDL's addresses")
    erp_timeout: float = Field(default=10.0, gt=0, le=120, description="seconds per ERP call (connect and read)")
    gennext_url: str | None = None
    gennext_api_key: SecretStr | None = None
    erp_webhook_secret: SecretStr | None = None
    timezone: str = "Asia/Kolkata"
    default_currency: str = "INR"
    files_dir: Path | None = None
    cors_origins: str = Field(
        default="", description="comma-separated origins allowed by CORS (https://app.example.com); none: no CORS"
    )
    bench_routes: bool = Field(default=False, description="Serve the reference route of the benchmark (SPEC §10).")
    credit_count_receivables: bool = True
    credit_count_open_orders: bool = True
    credit_count_dispatched: bool = True
    max_temp_limit_days: int = Field(default=90, ge=1, le=3660, description="how far ahead a temporary limit may end")
    max_tolerance_pct: Decimal = Field(default=Decimal(20), ge=0, le=100, decimal_places=2, description="top tolerance")
    # `crm worker` (docs/operations.md "Running the worker")
    outbox_max_attempts: int = Field(default=10, gt=0, description="attempts before a message is dead-lettered")
    outbox_retry_base: float = Field(default=2.0, gt=0, description="first retry delay ceiling, seconds")
    outbox_retry_cap: float = Field(default=600.0, gt=0, description="largest retry delay, seconds")
    outbox_lease: float = Field(default=120.0, gt=0, description="seconds a worker holds the messages it claimed")
    live_balance: str = Field(
        default="",
        description="comma-separated ERPs (sap, gennext, sandbox) whose customers' balance is read live at submit "
        "and quote; none: the stored receivables",
    )
    live_credit_timeout_ms: int = Field(
        default=800, gt=0, le=10_000, description="milliseconds a live balance or credit check may take"
    )
    sap_credit_check: bool = Field(
        default=False, description="ask SAP's own credit check at submit too; where it says no, the order is held"
    )
    sap_commitments: bool = Field(
        default=False, description="the worker reports open orders of SAP customers to SAP as credit commitments"
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL", description="PRAGMA synchronous of the SQLite store: FULL survives power loss"
    )
    outbox_retention_days: int = Field(
        default=7, ge=0, le=3660, description="delivered outbox messages are purged this many days after delivery"
    )
    erp_breaker_failures: int = Field(default=5, gt=0, description="consecutive ERP failures that open the breaker")
    erp_breaker_cooldown: float = Field(default=30.0, gt=0, description="seconds an open breaker waits")
    worker_metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="`crm worker` serves /metrics on this port (off when unset)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="least level of the JSON log lines (debug: one line per outbox delivery)"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="when set, GET /metrics needs Authorization: Bearer <token>"
    )
    # the sandbox ERP only: a slow link and an outage switch, for demos and drills
    sandbox_erp_latency_ms: int = Field(default=0, ge=0, description="sandbox ERP answers after this delay")
    sandbox_erp_outage_file: Path | None = Field(default=None, description="sandbox ERP is down while this exists")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        from ipaddress import ip_network

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"CRM_TRUSTED_PROXIES: {part!r} is not an address or CIDR") from exc
        return value

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?", origin):
                raise ValueError(f"CRM_CORS_ORIGINS lists origins such as https://app.example.com, not {origin!r}")
        return value

    @field_validator("live_balance")
    @classmethod
    def _live_balance(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = sorted(set(names) - {"sap", "gennext", "sandbox"})
        if unknown:
            raise ValueError(f"CRM_LIVE_BALANCE lists ERPs among sap, gennext and sandbox, not {', '.join(unknown)}")
        return ",".join(names)

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("sms_backend", "sms_fallback_backend")
    @classmethod
    def _sms_backend(cls, value: str | None) -> str | None:
        if value is not None and value != "log" and not value.startswith(("file:", "http:", "https:")):
            raise ValueError("CRM_SMS_BACKEND and CRM_SMS_FALLBACK_BACKEND are log, file:PATH or http(s):URL")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.env == "prod":
            problems = []
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret.encode()) < MIN_SECRET_BYTES:
                problems.append(f"CRM_JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes")
            if self.sms_backend == "log" or self.sms_fallback_backend == "log":
                problems.append("CRM_SMS_BACKEND=log (or CRM_SMS_FALLBACK_BACKEND=log) is for development only")
            if not (self.sap_wsdl or self.gennext_url):
                problems.append(
                    "the sandbox ERP cannot be the default in production: set CRM_SAP_WSDL or CRM_GENNEXT_URL"
                )
            if problems:
                raise ValueError("; ".join(problems))
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        """The origins of `CRM_CORS_ORIGINS`, in order."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def live_balance_erps(self) -> frozenset[str]:
        return frozenset(n for n in self.live_balance.split(",") if n)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'crm.db'}"

    @property
    def effective_files_dir(self) -> Path:
        return self.files_dir or self.data_dir / "files"

    def domain_config(self) -> DomainConfig:
        return DomainConfig(
            timezone=self.timezone,
            default_currency=self.default_currency,
            credit_policy=CreditPolicy(
                count_receivables=self.credit_count_receivables,
                count_open_orders=self.credit_count_open_orders,
                count_dispatched=self.credit_count_dispatched,
            ),
            credit_bounds=CreditBounds(
                max_temp_limit_days=self.max_temp_limit_days, max_tolerance_pct=self.max_tolerance_pct
            ),
        )

    def redacted(self) -> dict[str, Any]:
        """Every effective setting, with secrets (and passwords inside URLs) replaced by '***'."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "***" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            if name in {"database_url", "redis_url"} and isinstance(value, str):
                value = _hide_password(value)
            shown[name] = value
        shown["database_url"] = _hide_password(self.effective_database_url)
        shown["files_dir"] = str(self.effective_files_dir)
        return shown


def _hide_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
