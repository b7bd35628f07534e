"""Development e-mail backends: the log (recipient masked, subject only) and a JSON-lines file (one object a
line with `to`, `subject`, `body`, `at`) that a developer or a test reads the messages from."""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.jsonlines import JsonLinesFile
from crm_domain.ports import Clock, EmailSender

log = logging.getLogger("crm.email")


def masked_address(address: str) -> str:
    """`m***@example.com`: enough to tell people apart in a log, not enough to harvest addresses."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class LogEmailSender:
    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        log.debug("email to %s: %s (%d characters)", masked_address(to), subject, len(body))


class FileEmailSender:
    """Appends each message to a JSON-lines file; safe with several processes (see `JsonLinesFile`)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._file = JsonLinesFile(path)
        self._clock = clock

    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        record = {"to": to, "subject": subject, "body": body, "at": self._clock.now().isoformat()}
        if html is not None:
            record["html"] = html
        self._file.append(record)


class TeeEmailSender:
    """Sends through several senders (the embedded default: log and file)."""

    def __init__(self, *senders: EmailSender) -> None:
        self._senders = senders

    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        for sender in self._senders:
            sender.send(to, subject, body, html)
