"""Mobile numbers normalised to E.164 with `phonenumbers` (default region IN)."""

from __future__ import annotations

import phonenumbers

from crm_domain.errors import ValidationFailed


class PhonenumbersNormaliser:
    def __init__(self, default_region: str = "IN") -> None:
        self._region = default_region

    def normalise(self, raw: str) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
            raise ValidationFailed(f"mobile {raw!r} is not a phone number", field="mobile")
        try:
            number = phonenumbers.parse(raw, self._region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationFailed(f"mobile {raw!r} is not a phone number", field="mobile") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationFailed(f"mobile {raw!r} is not a valid phone number", field="mobile")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
