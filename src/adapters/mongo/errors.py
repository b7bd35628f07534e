"""Errors of the MongoDB store that the entry points answer as a dependency unavailable (503)."""

from __future__ import annotations

from crm_domain.errors import UpstreamUnavailable

OUTCOME_UNKNOWN = "outcome unknown; retry with the same Idempotency-Key"


class CommitOutcomeUnknown(UpstreamUnavailable):
    """The server did not say whether a commit landed (the connection dropped or the deadline passed while
    committing). Retrying with the same idempotency key is safe: the key's record is written in the same
    transaction as the rest, so the retry either replays the committed result or does the work once."""

    code = "commit_outcome_unknown"

    def __init__(self) -> None:
        super().__init__(OUTCOME_UNKNOWN)


class StoreNotReady(UpstreamUnavailable):
    """The MongoDB server cannot serve this store: a standalone server (no transactions), or `crm db init`
    has not made the indexes. The message is one line for the operator."""

    code = "store_not_ready"
