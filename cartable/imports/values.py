"""Reading single values from the exports: dates, booleans, sexes, e-mails, names.

Each reader is lenient on form (padding, three ways to say "empty") and returns a neutral value
('' or None) for what it cannot read, so that the caller decides whether that is worth a warning.
"""

from __future__ import annotations

import datetime
import re

from cartable.lib.text import clean

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_INE = re.compile(r"^[0-9]{9}[A-Z]{2}$|^[0-9]{10}[A-Z]$|^[0-9A-Z]{11}$")


def text(value: str | None) -> str:
    """Trimmed text with inner runs of spaces collapsed; None and '' (both empty forms) -> ''."""
    if not value:
        return ""
    return clean(value)


def code(value: str | None) -> str:
    """A structure or subject code: trimmed only (codes like '3 A' are kept as they are)."""
    return value.strip() if value else ""


def french_date(value: str | None) -> datetime.date | None | bool:
    """'02/09/2015' -> date; '' -> None; unreadable -> False (the caller warns)."""
    value = value.strip() if value else ""
    if not value:
        return None
    try:
        day, month, year = value.split("/")
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


def flag(value: str | None) -> bool | None:
    """SIECLE booleans come as 0/1 or true/false; '' -> None."""
    value = value.strip().lower() if value else ""
    if value in ("1", "true", "oui", "o", "vrai"):
        return True
    if value in ("0", "false", "non", "n", "faux"):
        return False
    return None


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
