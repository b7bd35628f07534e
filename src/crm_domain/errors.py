"""Domain errors: one root, a few categories that entry points map (HTTP status, exit code), and concrete
errors carrying typed fields. Every error has a stable machine `code`."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Root of every error the domain raises on purpose."""

    code: ClassVar[str] = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The thing does not exist, or is outside the actor's scope (the two are never distinguished)."""

    code = "not_found"


class Forbidden(DomainError):
    """The actor lacks a permission for the action."""

    code = "forbidden"


class Unauthenticated(DomainError):
    """No valid identity: wrong or expired OTP, bad token, ended session."""

    code = "unauthenticated"


class Conflict(DomainError):
    """The request clashes with the current state (forbidden transition, duplicate, reused key)."""

    code = "conflict"


class RuleViolation(DomainError):
    """A business rule refuses the action (four eyes, self-approval)."""

    code = "rule_violation"


class ValidationFailed(DomainError):
    """The input is malformed or out of range. `field` names the offending input where known."""

    code = "validation_failed"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UpstreamUnavailable(DomainError):
    """A dependency (ERP, Redis, SMS gateway) cannot be reached now; the caller may retry later."""

    code = "upstream_unavailable"


class TooManyRequests(DomainError):
    """A rate limit refuses the request; `retry_after` seconds until it may be tried again."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- concrete errors -------------------------------------------------------------------------------------


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"currency mismatch: {expected} and {got} cannot be mixed", field="currency")
        self.expected = expected
        self.got = got


class EntityNotFound(NotFound):
    code = "not_found"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class PermissionDenied(Forbidden):
    code = "permission_denied"

    def __init__(self, permission: str) -> None:
        super().__init__(f"permission {permission!r} is required")
        self.permission = permission


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, order_id: str, current: str, target: str) -> None:
        super().__init__(f"order {order_id} cannot go from {current} to {target}")
        self.order_id = order_id
        self.current = current
        self.target = target


class DuplicateKey(Conflict):
    code = "duplicate"

    def __init__(self, kind: str, field: str, value: str) -> None:
        super().__init__(f"a {kind} with {field} {value!r} already exists")
        self.kind = kind
        self.field = field
        self.value = value


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")
        self.key = key


class ConcurrentUpdate(Conflict):
    """Optimistic concurrency: the stored version moved on since it was read. Services retry on it."""

    code = "concurrent_update"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} was changed concurrently; try again")
        self.kind = kind
        self.key = key


class FourEyesViolation(RuleViolation):
    code = "four_eyes"

    def __init__(self, action: str, actor_id: str) -> None:
        super().__init__(f"{action} must be done by someone other than {actor_id}")
        self.action = action
        self.actor_id = actor_id


class CreditRaiseNeedsApproval(RuleViolation):
    """A change that raises what a customer may owe was made directly: it takes effect only as a credit-term
    change request approved by a second person (SPEC §2.3 credit governance)."""

    code = "credit_raise_needs_approval"

    def __init__(self, customer_id: str, kind: str) -> None:
        super().__init__(
            f"raising the {kind} of customer {customer_id} needs a credit-term change request approved by a "
            f"second person: POST /api/v1/customers/{customer_id}/credit-limit-requests "
            f'with kind "{kind}" and a reason'
        )
        self.customer_id = customer_id
        self.kind = kind


class UnknownSku(ValidationFailed):
    code = "unknown_sku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown SKU {sku!r}", field="lines")
        self.sku = sku


class InactiveSku(ValidationFailed):
    code = "inactive_sku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku!r} is not active", field="lines")
        self.sku = sku


class InactiveUser(Unauthenticated):
    code = "inactive_user"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} is not active")
        self.user_id = user_id


class RecipientRejected(ValidationFailed):
    """The SMS gateway or mail server refused a message for good (a bad number or address): retrying cannot
    help. `recipient` is masked; `channel` is `sms` or `email`; `status` is the gateway's or server's code."""

    code = "recipient_rejected"

    def __init__(self, channel: str, recipient: str, status: int) -> None:
        super().__init__(f"the {channel} gateway refused the message to {recipient} ({status})", field="to")
        self.channel = channel
        self.recipient = recipient
        self.status = status
