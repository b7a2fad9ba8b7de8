"""French phone numbers to E.164 (+33…), as SIECLE holds them in every form."""

from __future__ import annotations

import re

_NOT_DIGITS = re.compile(r"[^\d+]")


def to_e164(raw: str | None) -> str:
    """'06 99 00 11 22', '+33699001122', '0033 6 99…', '33699001122' -> '+33699001122'.

    Returns '' for an empty or unusable number (too short, letters) rather than failing: a bad
    phone in an export must not block a whole import.
    """
    if not raw:
        return ""
    digits = _NOT_DIGITS.sub("", raw.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        number = "+" + digits[1:].replace("+", "")
    elif len(digits) == 10 and digits.startswith("0"):
        number = "+33" + digits[1:]
    elif len(digits) == 11 and digits.startswith("33"):
        number = "+" + digits
    elif len(digits) == 9 and digits[0] in "123456789":
        number = "+33" + digits
    else:
        return ""
    if number.startswith("+330"):
        number = "+33" + number[4:]
    if not 8 <= len(number) - 1 <= 15:
        return ""
    return number


def is_mobile(e164: str) -> bool:
    """French mobiles are +336… and +337…; overseas mobiles (+262 69…, +596 696…) too."""
    return bool(re.match(r"^\+33[67]\d{8}$|^\+(262|269|590|594|596|689|687)", e164 or ""))
