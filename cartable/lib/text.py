"""Text helpers shared by the importers and identifier generation."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into ASCII.
# Typographic apostrophes and dashes become their ASCII forms (separators in identifiers).
_SPECIAL = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-", "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d"})


def ascii_fold(value: str) -> str:
    """'Œdipe Ñúñez' -> 'OEdipe Nunez': accents removed, ligatures spelled out, other marks dropped."""
    value = value.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", value)
    return decomposed.encode("ascii", "ignore").decode("ascii")


_SPACES = re.compile(r"\s+")


def clean(value: str | None) -> str:
    """Trim and collapse whitespace (SIECLE values can be right-padded); None -> ''."""
    if not value:
        return ""
    return _SPACES.sub(" ", value).strip()


def normalise_answer(value: str) -> str:
    """Compare free-text answers without case, accents or extra spaces."""
    return clean(ascii_fold(value)).casefold()


_NAME_SEPARATORS = re.compile(r"[\s\-'’‐‑–—.]+")


def normalise_name(value: str | None) -> str:
    """Compare people's names as typed by a parent with the school's records.

    'Éloïse-Marie  d'Arc' and 'ELOISE MARIE D ARC' give the same: case, accents, hyphens,
    apostrophes, dots and extra spaces are ignored (SIECLE and parents write names both ways).
    """
    folded = ascii_fold((value or "").translate(_SPECIAL)).casefold()
    return " ".join(part for part in _NAME_SEPARATORS.split(folded) if part)
