"""Development e-mail backends: the log (recipient masked, subject only) and a JSON-lines file (one object a
line with `to`, `subject`, `body`, `at`) that a developer or a test reads the messages from."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from crm_domain.ports import Clock, EmailSender

log = logging.getLogger("crm.email")


def masked_address(address: str) -> str:
    """`m***@example.com`: enough to tell people apart in a log, not enough to harvest addresses."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class LogEmailSender:
    def send(self, to: str, subject: str, body: str) -> None:
        log.info("email to %s: %s (%d characters)", masked_address(to), subject, len(body))


class FileEmailSender:
    """Appends each message to a JSON-lines file; safe with several processes (one O_APPEND write a line)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        record = {"to": to, "subject": subject, "body": body, "at": self._clock.now().isoformat()}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)


class TeeEmailSender:
    """Sends through several senders (the embedded default: log and file)."""

    def __init__(self, *senders: EmailSender) -> None:
        self._senders = senders

    def send(self, to: str, subject: str, body: str) -> None:
        for sender in self._senders:
            sender.send(to, subject, body)
