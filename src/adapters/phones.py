"""Mobile numbers normalised to E.164 with `phonenumbers` (default region IN)."""

from __future__ import annotations

import re

import phonenumbers

from crm_domain.errors import ValidationFailed

_NON_DIGIT = re.compile(r"[^0-9]")
_MIN_DIGITS = 4


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

    def prefixes(self, raw: str) -> tuple[str, ...]:
        """E.164 prefixes of a partly typed number: `+` and the digits when written with `+` (or `00`);
        otherwise the digits as a national number of the default region (without a trunk 0), and, when they
        start with that region's calling code, as an international one."""
        if not isinstance(raw, str) or len(raw) > 32:
            return ()
        digits = _NON_DIGIT.sub("", raw)
        if len(digits) < _MIN_DIGITS:
            return ()
        text = raw.strip()
        if text.startswith("+"):
            return ("+" + digits,)
        if digits.startswith("00"):
            return ("+" + digits[2:],)
        code = str(phonenumbers.country_code_for_region(self._region))
        found = {"+" + code + digits.lstrip("0")}
        if digits.startswith(code):
            found.add("+" + digits)
        return tuple(sorted(found))
