"""Link reports: filing one, and the staff's two answers, each a named function.

- `file_report()`: from the self-registration's children step, from FranceConnect's first use,
  or from Mon compte → Enfants. One open report per (guardian, pupil): filing again returns it.
- `fix_report()`: the staff remove the link (the Guardianship row) and close the report
  « corrigé ». The link comes from SIECLE: unless SIECLE is corrected too, the next import
  creates it again (the console says so).
- `reject_report()`: the link stays, the report is closed « rejeté » with a note for the parent.
Every step is audited under the report's établissement.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cartable.accounts.models import User
from cartable.accounts.persons import person_ids
from cartable.accounts.services import audit
from cartable.directory.models import Guardianship

from .models import LinkReport


class ReportRefused(Exception):
    """The report cannot be handled this way (already handled meanwhile)."""


def reportable_links(user: User) -> QuerySet[Guardianship]:
    """The links `user` may report from Mon compte: their children (levels 1 and 2) only."""
    return Guardianship.objects.filter(
        guardian_id__in=person_ids(user), level__in=[Guardianship.Level.LEGAL, Guardianship.Level.IN_CHARGE]
    ).select_related("pupil", "etablissement")


def reports_of(user: User) -> QuerySet[LinkReport]:
    """The reports about `user`'s links (filed by them or about their persons), newest first."""
    return (
        LinkReport.objects.filter(Q(reporter=user) | Q(guardian_id__in=person_ids(user)))
        .select_related("pupil", "etablissement")
        .order_by("-created_at", "-pk")
    )


@transaction.atomic
def file_report(link: Guardianship, *, reporter: User | None, source: str, comment: str = "") -> LinkReport:
    """Put the link into its établissement's queue (or return the open report already there)."""
    existing = LinkReport.objects.filter(
        guardian_id=link.guardian_id, pupil_id=link.pupil_id, etablissement_id=link.etablissement_id,
        status=LinkReport.Status.OPEN,
    ).first()
    if existing is not None:
        return existing
    report = LinkReport.objects.create(
        guardian_id=link.guardian_id,
        pupil_id=link.pupil_id,
        etablissement_id=link.etablissement_id,
        reporter=reporter,
        source=source,
        comment=comment.strip(),
    )
    audit(
        "link.reported",
        actor=reporter,
        target=reporter or "",
        uai=link.etablissement.uai,
        report=report.pk,
        guardian=link.guardian_id,
        pupil=link.pupil_id,
        source=source,
    )
    return report


def _close(report: LinkReport, status: str, *, actor: User | None, note: str) -> LinkReport:
    # Conditional: two secretaries handling the same report at once, only one answer counts.
    now = timezone.now()
    closed = LinkReport.objects.filter(pk=report.pk, status=LinkReport.Status.OPEN).update(
        status=status, handled_by=actor, handled_at=now, staff_note=note.strip()
    )
    if closed != 1:
        raise ReportRefused()
    report.refresh_from_db()
    return report


@transaction.atomic
def fix_report(report: LinkReport, *, actor: User | None, note: str = "") -> LinkReport:
    """Remove the reported link and close the report « corrigé »."""
    report = _close(report, LinkReport.Status.FIXED, actor=actor, note=note)
    removed, _detail = Guardianship.objects.filter(
        guardian_id=report.guardian_id, pupil_id=report.pupil_id, etablissement_id=report.etablissement_id
    ).delete()
    audit(
        "link.removed",
        actor=actor,
        target=username_of(report.guardian_id),
        uai=report.etablissement.uai,
        report=report.pk,
        guardian=report.guardian_id,
        pupil=report.pupil_id,
        removed=removed,
    )
    return report


@transaction.atomic
def reject_report(report: LinkReport, *, actor: User | None, note: str = "") -> LinkReport:
    """Keep the link and close the report « rejeté », with the note the parent will read."""
    report = _close(report, LinkReport.Status.REJECTED, actor=actor, note=note)
    audit(
        "link.report_rejected",
        actor=actor,
        target=username_of(report.guardian_id),
        uai=report.etablissement.uai,
        report=report.pk,
        guardian=report.guardian_id,
        pupil=report.pupil_id,
    )
    return report


@transaction.atomic
def link_removed_by_staff(link: Guardianship, *, actor: User | None) -> int:
    """A link deleted by hand in the console: audited, and its open reports closed « corrigé »."""
    audit(
        "link.removed",
        actor=actor,
        target=username_of(link.guardian_id),
        uai=link.etablissement.uai,
        guardian=link.guardian_id,
        pupil=link.pupil_id,
        via="console",
    )
    closed = 0
    for report in LinkReport.objects.filter(
        guardian_id=link.guardian_id, pupil_id=link.pupil_id, etablissement_id=link.etablissement_id,
        status=LinkReport.Status.OPEN,
    ):
        try:
            _close(report, LinkReport.Status.FIXED, actor=actor, note="")
            closed += 1
        except ReportRefused:
            continue
    return closed


def username_of(person_id: int) -> str:
    return User.objects.filter(person_id=person_id).values_list("username", flat=True).first() or ""


@dataclass(frozen=True)
class ChildLink:
    """A link as Mon compte → Enfants shows it, with what the parent may do about it."""

    guardianship_id: int
    pupil_name: str
    etablissement: str
    level: str
    open_report: LinkReport | None


def child_links(user: User) -> list[ChildLink]:
    """`user`'s reportable links, each with its open report if any."""
    links = list(reportable_links(user))
    open_reports = {
        (r.guardian_id, r.pupil_id, r.etablissement_id): r
        for r in LinkReport.objects.filter(guardian_id__in=person_ids(user), status=LinkReport.Status.OPEN)
    }
    return [
        ChildLink(
            guardianship_id=link.pk,
            pupil_name=link.pupil.full_name,
            etablissement=link.etablissement.name,
            level=str(link.get_level_display()),
            open_report=open_reports.get((link.guardian_id, link.pupil_id, link.etablissement_id)),
        )
        for link in links
    ]
