"""Imports in the staff console: the history (read-only, scoped) and the upload page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartable.accounts.models import User
from cartable.directory.scoping import managed_etablissements

from .errors import summary_lines
from .forms import ImportForm
from .models import ImportRun
from .service import run_import


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "etablissement", "status", "started_by", "summary")
    list_filter = ("status",)
    date_hierarchy = "started_at"
    fields = ("etablissement", "status", "started_at", "finished_at", "started_by", "file_names", "rendered_report")
    readonly_fields = fields
    change_list_template = "admin/imports/importrun/change_list.html"

    # --- scoping: superusers see everything; console staff the runs of the établissements they
    # manage (cartable.directory.scoping); nobody edits or deletes the record of an import.
    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRun]:
        qs = super().get_queryset(request).select_related("etablissement", "started_by")
        if request.user.is_superuser:
            return qs
        return qs.filter(etablissement__in=managed_etablissements(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return managed_etablissements(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        managed = managed_etablissements(request.user)
        if obj is None:
            return managed.exists()
        return managed.filter(pk=obj.etablissement_id).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("résumé"))
    def summary(self, obj: ImportRun) -> str:
        if obj.status == ImportRun.Status.FAILED:
            errors = obj.report.get("errors") or []
            return errors[0]["text"] if errors else ""
        created = obj.report.get("created", {})
        return _("%(pupils)s élèves, %(responsables)s responsables, %(staff)s personnels créés") % {
            "pupils": created.get("pupils", 0),
            "responsables": created.get("responsables", 0),
            "staff": created.get("staff", 0),
        }

    @admin.display(description=gettext_lazy("fichiers"))
    def file_names(self, obj: ImportRun) -> str:
        return ", ".join(f.get("name", "") for f in obj.files)

    @admin.display(description=gettext_lazy("compte rendu"))
    def rendered_report(self, obj: ImportRun) -> str:
        lines = [e["text"] for e in obj.report.get("errors", [])] + summary_lines(obj.report)
        return format_html_join("", "<p>{}</p>", ((line,) for line in lines))

    # --- the upload page ---------------------------------------------------------------------
    def get_urls(self) -> list:
        upload = path("import/", self.admin_site.admin_view(self.upload_view), name="imports_importrun_upload")
        return [upload, *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Staff of an établissement upload its exports; the report is shown on the same page.

        admin_view has checked: logged in, active, console access, CSRF on POST."""
        managed = managed_etablissements(request.user)
        if not managed.exists():
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, etablissements=managed)
        run = None
        if request.method == "POST" and form.is_valid():
            etablissement = form.cleaned_data["etablissement"]
            run = run_import(
                etablissement,
                form.cleaned_data["fichiers"],
                actor=cast(User, request.user),
                dry_run=form.cleaned_data["dry_run"],
            )
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Importer des fichiers"),
            "form": form,
            "run": run,
            "summary": summary_lines(run.report) if run else [],
            "counts": _counts(run.report) if run else [],
        }
        return TemplateResponse(request, "admin/imports/importrun/upload.html", context)


def _counts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the report table: one per kind, created / updated / departed / rejected."""
    from .errors import KIND_LABELS, KINDS

    rows = []
    for kind in KINDS:
        figures = [report.get(outcome, {}).get(kind, 0) for outcome in ("created", "updated", "departed", "rejected")]
        rows.append({"label": str(KIND_LABELS[kind]).capitalize(), "figures": figures})
    return rows
