"""One log schema for the API, the worker, the access log and the server (SPEC §9): a JSON object a line on
stderr with `timestamp` (UTC, ISO 8601), `level`, `event` (what happened, in words), `logger`, and the context
of the request or delivery it belongs to — `request_id` and `user_id` (bound for the whole request through
contextvars), `order_id` where one is known — plus the fields of the event itself.

structlog loggers and the standard library's (the domain's, Litestar's, granian's) go through the same
processors, so a line looks the same whoever wrote it. Nothing here logs a token, an OTP or a secret: request
lines carry the path without its query string.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from typing import Any, Final, TextIO

import structlog
from structlog.typing import EventDict, Processor

#: Fields a log record may carry in `extra={"outbox": {...}}` (the outbox delivery's) are lifted into the line.
_EXTRA_FIELDS: Final = ("outbox",)
#: The logger of the access log: one line per HTTP request.
ACCESS_LOGGER: Final = "crm.access"

_OURS: Final = "_crm_json_lines"

_timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")


def _record_extras(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """The delivery fields a standard-library record carries (`extra={"outbox": {...}}`), as fields of the line;
    an order's events name the order (`order_id`)."""
    record = event.get("_record")
    for name in _EXTRA_FIELDS:
        fields = getattr(record, name, None)
        if isinstance(fields, dict):  # the delivery's `event` is the outbox event's type: `event_type` here
            renamed = {("event_type" if k == "event" else k): v for k, v in fields.items()}
            event.update({k: v for k, v in renamed.items() if v not in (None, ()) and k not in event})
    return event


def _order_id(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """An outbox message about an order is about that order: `order_id` from its aggregate id."""
    kind = event.get("event_type")
    aggregate = event.get("aggregate_id")
    if "order_id" not in event and isinstance(kind, str) and kind.startswith("order.") and aggregate:
        event["order_id"] = aggregate
    return event


_FIRST: Final = ("timestamp", "level", "event", "logger", "request_id", "user_id", "order_id")


def _schema_order(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """The schema's fields first, in the same order on every line; the event's own fields after them."""
    ordered = {key: event.pop(key) for key in _FIRST if key in event}
    ordered.update(event)
    return ordered


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _timestamper,
    ]


def _event_chain() -> list[Processor]:
    """What a structlog event goes through before the handlers' formatter (after the level filter)."""
    return [*_shared(), _order_id, structlog.stdlib.PositionalArgumentsFormatter()]


def json_formatter() -> logging.Formatter:
    """The formatter of every handler: standard-library records and structlog events alike become one JSON line
    of the schema above. (Named in granian's logging configuration, so its lines take the schema too.)"""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(), _record_extras, _order_id],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _schema_order,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
    )


def configure(level: str | int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send every log line, of structlog and of the standard library, through `json_formatter` to `stream`
    (stderr); `level` is the least level written (`CRM_LOG_LEVEL`)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_event_chain(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:  # configured again: ours replaced,
        root.removeHandler(old)  # others' (a test's log capture) kept
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)


def info_line(logger_name: str, event: str) -> Callable[..., None]:
    """A function that writes one `event` line at info level to `logger_name`, as a structlog logger's `info`
    would: the same level filter, processors, handlers and line. Without structlog's per-call logger machinery
    (a bound logger made per call, the caller's frame looked up, then the processors): about half the CPU of a
    line, for the access log's one a request."""
    std = logging.getLogger(logger_name)
    chain = _event_chain()

    def write(**fields: Any) -> None:
        if not std.isEnabledFor(logging.INFO):
            return
        event_dict: EventDict = {"event": event, **fields}
        for processor in chain:
            event_dict = processor(std, "info", event_dict)  # type: ignore[assignment]
        # As `ProcessorFormatter.wrap_for_formatter` hands it on: the event dict, and who logged it.
        extra = {"_logger": std, "_name": "info"}
        std.handle(std.makeRecord(std.name, logging.INFO, "(unknown file)", 0, event_dict, (), None, extra=extra))

    return write


def granian_logging(level: str) -> dict[str, Any]:
    """granian's logging configuration: its own lines (start, workers) in the schema; its access log stays off
    (the app writes one, with the request id and user)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "entrypoints.logs.json_formatter"}},
        "handlers": {"console": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
        "loggers": {
            "_granian": {"handlers": ["console"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }


def bind(**fields: object) -> None:
    """Add fields to every line logged from here until the request (or delivery) ends."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def context() -> MutableMapping[str, Any]:
    """The fields bound so far."""
    return structlog.contextvars.get_contextvars()
