"""Staff console for link reports: the établissement's queue, scoped like every console screen.

A secretary sees only the reports of the établissements she manages (directory.admin's scope,
extended here to LinkReport). Two actions, each with a confirmation page and a note:
« Corriger : retirer ce lien » and « Rejeter ». Reports are filed by parents only: no adding,
no deleting, and their fields are read-only (the note is written through the actions).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cartable.accounts.models import User
from cartable.accounts.services import audit
from cartable.directory.admin import SCOPES, ScopedAdminMixin
from cartable.directory.admin import GuardianshipAdmin as DirectoryGuardianshipAdmin
from cartable.directory.models import Guardianship

from . import services
from .forms import StaffNoteForm
from .models import LinkReport

# The directory's scope rule, for this model too: a report belongs to its établissement.
SCOPES[LinkReport] = lambda qs, scope: qs.filter(etablissement_id__in=scope.ids)


# Everything is read-only: the status and the note change through the two actions.
_FIELDS: tuple[str, ...] = (
    "status", "guardian_link", "pupil_link", "etablissement", "link_status", "source", "reporter", "comment",
    "created_at", "handled_by", "handled_at", "staff_note",
)


@admin.register(LinkReport)
class LinkReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "guardian", "pupil", "etablissement", "source", "status", "handled_at"]
    list_filter = ["status", "source"]
    search_fields = ["guardian__last_name", "guardian__first_name", "pupil__last_name", "pupil__first_name"]
    list_select_related = ["guardian", "pupil", "etablissement"]
    actions = ["fix_links", "reject_reports"]
    fields = _FIELDS
    readonly_fields = _FIELDS
    staff_can_add = False
    staff_can_delete = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # filed by parents only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the queue is the history of what was reported and answered

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- columns and fields ---

    @admin.display(description=gettext_lazy("responsable"))
    def guardian_link(self, obj: LinkReport) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:directory_person_change", args=[obj.guardian_id]), obj.guardian)

    @admin.display(description=gettext_lazy("élève"))
    def pupil_link(self, obj: LinkReport) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:directory_person_change", args=[obj.pupil_id]), obj.pupil)

    @admin.display(description=gettext_lazy("lien dans l'annuaire"))
    def link_status(self, obj: LinkReport) -> str:
        link = Guardianship.objects.filter(
            guardian_id=obj.guardian_id, pupil_id=obj.pupil_id, etablissement_id=obj.etablissement_id
        ).first()
        if link is None:
            return _("Aucun (retiré)")
        # Staff may also edit the link itself (level, relationship) on its own screen.
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:directory_guardianship_change", args=[link.pk]), link.get_level_display()
        )

    # --- actions ---

    def _handle(
        self, request: HttpRequest, queryset: QuerySet[LinkReport], *, action: str, title: str, explanation: str
    ) -> TemplateResponse | None:
        reports = list(queryset.select_related("guardian", "pupil", "etablissement"))
        open_reports = [r for r in reports if r.is_open]
        if not open_reports:
            self.message_user(request, _("Aucun signalement ouvert dans la sélection."), messages.WARNING)
            return None
        form = StaffNoteForm(
            request.POST if request.POST.get("confirm") == "yes" else None, note_required=action == "reject_reports"
        )
        if request.POST.get("confirm") == "yes" and form.is_valid():
            actor = request.user if isinstance(request.user, User) else None
            handle = services.fix_report if action == "fix_links" else services.reject_report
            done = 0
            for report in open_reports:
                try:
                    handle(report, actor=actor, note=form.cleaned_data["note"])
                    done += 1
                except services.ReportRefused:
                    continue  # handled by someone else meanwhile
            if action == "fix_links":
                message = ngettext(
                    "%(count)d lien retiré. Faites aussi corriger la fiche dans SIECLE : sinon le prochain import "
                    "rétablira ce lien.",
                    "%(count)d liens retirés. Faites aussi corriger les fiches dans SIECLE : sinon le prochain "
                    "import rétablira ces liens.",
                    done,
                ) % {"count": done}
            else:
                message = ngettext("%(count)d signalement rejeté.", "%(count)d signalements rejetés.", done) % {"count": done}
            self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "opts": self.model._meta,
            "reports": open_reports,
            "skipped": len(reports) - len(open_reports),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/linking/linkreport/handle.html", context)

    @admin.action(description=gettext_lazy("Corriger : retirer ce lien"))
    def fix_links(self, request: HttpRequest, queryset: QuerySet[LinkReport]) -> HttpResponse | None:
        return self._handle(
            request,
            queryset,
            action="fix_links",
            title=_("Retirer les liens signalés"),
            explanation=_(
                "Le lien entre le responsable et l'élève sera supprimé de l'annuaire de l'ENT : le responsable ne "
                "verra plus cet élève. Ce lien vient de SIECLE : faites aussi corriger la fiche dans SIECLE, sinon "
                "le prochain import le rétablira."
            ),
        )

    @admin.action(description=gettext_lazy("Rejeter"))
    def reject_reports(self, request: HttpRequest, queryset: QuerySet[LinkReport]) -> HttpResponse | None:
        return self._handle(
            request,
            queryset,
            action="reject_reports",
            title=_("Rejeter les signalements"),
            explanation=_(
                "Le lien est conservé. Expliquez pourquoi dans la note : le parent la lira dans « Mon compte »."
            ),
        )


# --- The links themselves ----------------------------------------------------------------------

SIECLE_WARNING = gettext_lazy(
    "Ce lien vient de SIECLE : faites aussi corriger la fiche dans SIECLE, sinon le prochain import le rétablira."
)


admin.site.unregister(Guardianship)


@admin.register(Guardianship)
class GuardianshipAdmin(DirectoryGuardianshipAdmin):
    """The directory's screen for links (scoped, editable by the staff), plus what a link
    report needs: an audit line for each link added, changed or removed by hand, the SIECLE
    warning on removal, and the open reports about a removed link closed « corrigé »."""

    def save_model(self, request: HttpRequest, obj: Guardianship, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and not form.changed_data:
            return
        audit(
            "link.updated" if change else "link.added",
            actor=_actor(request),
            target=services.username_of(obj.guardian_id),
            uai=obj.etablissement.uai,
            guardian=obj.guardian_id,
            pupil=obj.pupil_id,
            fields=sorted(form.changed_data),
            via="console",
        )

    def delete_model(self, request: HttpRequest, obj: Guardianship) -> None:
        services.link_removed_by_staff(obj, actor=_actor(request))
        super().delete_model(request, obj)
        self.message_user(request, str(SIECLE_WARNING), messages.WARNING)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Guardianship]) -> None:
        for link in queryset.select_related("etablissement"):
            services.link_removed_by_staff(link, actor=_actor(request))
        super().delete_queryset(request, queryset)
        self.message_user(request, str(SIECLE_WARNING), messages.WARNING)


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None
