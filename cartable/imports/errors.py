"""What an import can say: a refusal (`ImportRefused`), and the report it builds as it goes.

Messages are French sentences built with gettext; each names the file and, when known, the line,
the column and the element, so that a secretary can find the spot in the export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Past this many examples per category the report keeps only a count: a 100,000-pupil import
# with a systematic problem must not produce a megabyte of JSON on the ImportRun.
MAX_EXAMPLES = 20
MAX_ERRORS = 50

KINDS = ("pupils", "responsables", "staff", "links", "classes", "accounts")
KIND_LABELS = {
    "pupils": gettext_lazy("élèves"),
    "responsables": gettext_lazy("responsables"),
    "staff": gettext_lazy("personnels"),
    "links": gettext_lazy("liens élève–responsable"),
    "classes": gettext_lazy("classes et groupes"),
    "accounts": gettext_lazy("comptes"),
}


def where(file: str = "", line: int | None = None, column: int | None = None) -> str:
    """'ElevesSansAdresses.xml, ligne 12, colonne 4' (the parts that are known)."""
    parts = [file] if file else []
    if line:
        parts.append(_("ligne %(line)s") % {"line": line})
    if column:
        parts.append(_("colonne %(column)s") % {"column": column})
    return ", ".join(parts)


class ImportRefused(Exception):
    """The import is refused as a whole (nothing is written); `message` is French."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        line: int | None = None,
        column: int | None = None,
        element: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.element = element

    def __reduce__(self):  # keep file/line/column when sent back from a worker process
        return (_refused, (self.message, self.file, self.line, self.column, self.element))

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "element": self.element,
            "message": self.message,
            "text": self.text,
        }

    @property
    def text(self) -> str:
        place = where(self.file, self.line, self.column)
        return f"{place} : {self.message}" if place else self.message


def _refused(message: str, file: str, line: int | None, column: int | None, element: str) -> ImportRefused:
    return ImportRefused(message, file=file, line=line, column=column, element=element)


@dataclass
class _Category:
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


class Report:
    """Counts and messages of one import; `as_json()` is what ImportRun.report stores."""

    def __init__(self) -> None:
        self.files: list[dict[str, Any]] = []
        self.year: int | None = None
        self.counts: dict[str, dict[str, int]] = {
            outcome: dict.fromkeys(KINDS, 0)
            for outcome in ("created", "updated", "departed", "returned", "ignored", "rejected")
        }
        self._warnings: dict[str, _Category] = {}
        self._rejections: dict[str, _Category] = {}
        self.errors: list[dict[str, Any]] = []
        self.error_count = 0
        self.timings: dict[str, float] = {}  # seconds per step, for the bench and slow imports
        # CPU seconds per step (this process, all its threads; `*_worker` steps: the worker's),
        # a figure the load of other processes changes less than `timings`.
        self.cpu: dict[str, float] = {}

    # --- counting -------------------------------------------------------------------------
    def add(self, outcome: str, kind: str, n: int = 1) -> None:
        self.counts[outcome][kind] += n

    # --- warnings and rejections: grouped by category, with a few examples each -------------
    def warn(self, code: str, message: str, example: str = "") -> None:
        """A warning of category `code` (`message` describes the category, `example` one case)."""
        self._note(self._warnings, code, message, example)

    def reject(self, kind: str, code: str, message: str, example: str) -> None:
        """A row left out of the import (the rest goes on): counted as rejected for `kind`."""
        self.counts["rejected"][kind] += 1
        self._note(self._rejections, f"{kind}:{code}", message, example)

    @staticmethod
    def _note(bucket: dict[str, _Category], code: str, message: str, example: str) -> None:
        category = bucket.get(code)
        if category is None:
            category = bucket[code] = _Category(message)
        category.count += 1
        if example and len(category.examples) < MAX_EXAMPLES:
            category.examples.append(example)

    def merge(self, other: Report) -> None:
        """Add another report's findings (a worker process's) to this one."""
        for outcome, kinds in other.counts.items():
            for kind, n in kinds.items():
                self.counts[outcome][kind] += n
        for mine, theirs in ((self._warnings, other._warnings), (self._rejections, other._rejections)):
            for code, category in theirs.items():
                current = mine.setdefault(code, _Category(category.message))
                current.count += category.count
                current.examples.extend(category.examples[: MAX_EXAMPLES - len(current.examples)])
        for error in other.errors[: MAX_ERRORS - len(self.errors)]:
            self.errors.append(error)
        self.error_count += other.error_count
        self.timings.update(other.timings)
        self.cpu.update(other.cpu)

    def error(self, refused: ImportRefused) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(refused.as_dict())

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return self._render(self._warnings)

    @property
    def rejections(self) -> list[dict[str, Any]]:
        return self._render(self._rejections)

    @staticmethod
    def _render(bucket: dict[str, _Category]) -> list[dict[str, Any]]:
        return [
            {"code": code, "message": c.message, "count": c.count, "examples": c.examples}
            for code, c in bucket.items()
        ]

    def warning_texts(self) -> Iterable[str]:
        for item in self.warnings:
            yield _format_category(item)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"files": self.files, "year": self.year}
        data.update({outcome: dict(values) for outcome, values in self.counts.items()})
        data["warnings"] = self.warnings
        data["rejections"] = self.rejections
        data["errors"] = self.errors
        data["error_count"] = self.error_count
        data["timings"] = self.timings
        data["cpu"] = self.cpu
        return data


def _format_category(item: dict[str, Any]) -> str:
    text = f"{item['message']} ({item['count']})"
    if item["examples"]:
        more = "…" if item["count"] > len(item["examples"]) else ""
        text += " : " + " ; ".join(item["examples"]) + more
    return text


def summary_lines(report: dict[str, Any]) -> list[str]:
    """French lines for a terminal or a page: one per kind that has any figure, then warnings."""
    lines = []
    for kind in KINDS:
        figures = {outcome: report.get(outcome, {}).get(kind, 0) for outcome in OUTCOME_LABELS}
        if not any(figures.values()):
            continue
        parts = [f"{n} {OUTCOME_LABELS[outcome]}" for outcome, n in figures.items() if n or outcome != "returned"]
        lines.append(f"{str(KIND_LABELS[kind]).capitalize()} : " + ", ".join(parts))
    for item in report.get("rejections", []):
        lines.append(_("Rejeté : %(text)s") % {"text": _format_category(item)})
    for item in report.get("warnings", []):
        lines.append(_("Avertissement : %(text)s") % {"text": _format_category(item)})
    return lines


OUTCOME_LABELS = {
    "created": gettext_lazy("créés"),
    "updated": gettext_lazy("mis à jour"),
    "departed": gettext_lazy("partis"),
    "returned": gettext_lazy("revenus"),
    "ignored": gettext_lazy("ignorés"),
    "rejected": gettext_lazy("rejetés"),
}
