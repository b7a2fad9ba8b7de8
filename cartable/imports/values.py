"""Reading single values from the exports: dates, booleans, sexes, e-mails, names.

Each reader is lenient on form (padding, three ways to say "empty") and returns a neutral value
('' or None) for what it cannot read, so that the caller decides whether that is worth a warning.
"""

from __future__ import annotations

import datetime
import re

from cartable.lib.phones import to_e164

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_INE = re.compile(r"^[0-9]{9}[A-Z]{2}$|^[0-9]{10}[A-Z]$|^[0-9A-Z]{11}$")


def text(value: str | None) -> str:
    """Trimmed text with inner runs of spaces collapsed; None and '' (both empty forms) -> ''.

    Same result as lib.text.clean, written for speed: called a million times per large import,
    and almost every value needs no collapsing."""
    if not value:
        return ""
    value = value.strip()
    if "  " in value or "\n" in value or "\t" in value or "\r" in value or "\xa0" in value:
        value = " ".join(value.split())
    return value


def code(value: str | None) -> str:
    """A structure or subject code: trimmed only (codes like '3 A' are kept as they are)."""
    return value.strip() if value else ""


def french_date(value: str | None) -> datetime.date | None | bool:
    """'02/09/2015' -> date; '' -> None; unreadable -> False (the caller warns)."""
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        day, month, year = value.split("/")
        if len(year) != 4:
            return False
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return False


def iso_date(value: str | None) -> datetime.date | None | bool:
    """'1968-10-15' -> date (STS); '' -> None; unreadable -> False."""
    value = value.strip() if value else ""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return False


_FLAGS = {
    **dict.fromkeys(("1", "true", "oui", "o", "vrai"), True),
    **dict.fromkeys(("0", "false", "non", "n", "faux"), False),
}


def flag(value: str | None) -> bool | None:
    """SIECLE booleans come as 0/1 or true/false; '' -> None."""
    if not value:
        return None
    result = _FLAGS.get(value)
    return result if result is not None else _FLAGS.get(value.strip().lower())


def phone(value: str | None) -> str:
    """E.164 phone (lib.phones.to_e164), with a fast path for numbers already in that form."""
    if not value:
        return ""
    if len(value) == 12 and value.startswith("+33") and value[3] != "0" and value[1:].isdigit():
        return value
    return to_e164(value)


def sex(value: str | None) -> str:
    """CODE_SEXE / SEXE: 1 male, 2 female (also M/F/H in CSV files)."""
    value = value.strip().upper() if value else ""
    if value in ("1", "M", "H", "G"):
        return "M"
    if value in ("2", "F"):
        return "F"
    return ""


def email(value: str | None) -> str | None:
    """A plausible e-mail address; '' when empty; None when present but unusable (warn)."""
    value = value.strip() if value else ""
    if not value:
        return ""
    return value if _EMAIL.match(value) and len(value) <= 254 else None


def ine(value: str | None) -> str:
    value = value.strip().upper() if value else ""
    return value if _INE.match(value) else ""
