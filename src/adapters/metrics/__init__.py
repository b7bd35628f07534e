"""Prometheus instruments around the ports (SPEC §9): wrappers the composition root puts around an ERP gateway,
an SMS or e-mail sender and a store, so every adapter is measured the same way and none of them knows about it.
The metric names are those the alert rules (deploy/prometheus/alerts.yml) and the dashboard ask for."""

from adapters.metrics.erp import ERP_CALL_FAILURES, ERP_CALL_SECONDS, ERP_OPERATIONS, MeteredErpGateway
from adapters.metrics.messages import (
    NOTIFICATIONS,
    SIGN_IN_CODES,
    SMS_GATEWAY_SENDS,
    MeteredEmailSender,
    MeteredSmsSender,
)
from adapters.metrics.store import STORE_COMMIT_SECONDS, MeteredStore

__all__ = [
    "ERP_CALL_FAILURES",
    "ERP_CALL_SECONDS",
    "ERP_OPERATIONS",
    "NOTIFICATIONS",
    "SIGN_IN_CODES",
    "SMS_GATEWAY_SENDS",
    "STORE_COMMIT_SECONDS",
    "MeteredEmailSender",
    "MeteredErpGateway",
    "MeteredSmsSender",
    "MeteredStore",
]
