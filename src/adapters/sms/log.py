"""Development SMS backends: the log (digits masked, so no code ever reaches a log) and a JSON-lines file
(one object a line with `to`, `text`, `at`) that a developer or a test reads the codes from."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from adapters.jsonlines import JsonLinesFile
from crm_domain.ports import Clock

log = logging.getLogger("crm.sms")
_DIGITS = re.compile(r"\d")


def mask(text: str) -> str:
    return _DIGITS.sub("•", text)


class LogSmsSender:
    def send(self, to: str, text: str) -> None:
        log.debug("sms to %s: %s", to[:-4] + "****", mask(text))


class FileSmsSender:
    """Appends each message to a JSON-lines file; safe with several processes (see `JsonLinesFile`)."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._file = JsonLinesFile(path)
        self._clock = clock

    def send(self, to: str, text: str) -> None:
        self._file.append({"to": to, "text": text, "at": self._clock.now().isoformat()})


class TeeSmsSender:
    """Sends through several senders (the embedded default: log and file)."""

    def __init__(self, *senders: LogSmsSender | FileSmsSender) -> None:
        self._senders = senders

    def send(self, to: str, text: str) -> None:
        for sender in self._senders:
            sender.send(to, text)
