"""Staff console: « Doublons probables » and merging accounts, scoped like every console screen.

- « Doublons probables » (/console/merging/probableduplicate/): parents' accounts of the staff
  member's établissements that are probably the same human (duplicates.py), grouped, each group
  with « Regrouper… ».
- « Regrouper les comptes sélectionnés », an action of the accounts list (accounts/admin.py):
  exactly two accounts.
Both lead to one confirmation page (`merge_view`): the accounts with their children, the one to
keep (the activated one by default), then merge_accounts(via="staff"). The accounts are narrowed
to the staff member's scope again on every POST (a selection may come from a crafted form): a
secretary merges only accounts of her établissement(s), a superuser any.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cartable.accounts.models import User
from cartable.directory.admin import managed_for, scope_of, scope_queryset
from cartable.directory.models import Membership

from . import services
from .duplicates import probable_duplicates, suggested_order
from .models import ProbableDuplicate
from .services import merged_identifiers


def _console_user(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and scope_of(request).is_console_user)


def _rows(accounts: list[User]) -> list[dict[str, Any]]:
    """What the staff member needs to decide: identifier, name, state, établissements, children."""
    memberships: dict[int, list[str]] = {}
    for m in Membership.objects.current().filter(person_id__in=[a.person_id for a in accounts]).select_related(
        "etablissement"
    ):
        memberships.setdefault(m.person_id, []).append(m.etablissement.name)
    return [
        {
            "account": account,
            "name": account.get_full_name(),
            "activated": account.is_activated,
            "etablissements": sorted(set(memberships.get(account.person_id or 0, []))),
            "children": services.children_names(account),
        }
        for account in accounts
    ]


def _changelist() -> str:
    return reverse("admin:merging_probableduplicate_changelist")


@admin.register(ProbableDuplicate)
class ProbableDuplicateAdmin(admin.ModelAdmin):
    """Not a list of rows: its changelist is the duplicates page, its one other URL the merge."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _console_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _console_user(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path("", self.admin_site.admin_view(self.duplicates_view), name="merging_probableduplicate_changelist"),
            path("regrouper/", self.admin_site.admin_view(self.merge_view), name="merging_probableduplicate_merge"),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **extra}

    def duplicates_view(self, request: HttpRequest) -> HttpResponse:
        if not _console_user(request):
            return HttpResponseRedirect(reverse("admin:index"))
        # Scoped on User itself: the proxy model has no rule in directory.admin.SCOPES.
        groups = probable_duplicates(scope_queryset(User.objects.all(), request))
        context = self._context(
            request,
            _("Doublons probables"),
            groups=[{"rows": _rows(g.accounts), "shared": g.shared, "ids": [a.pk for a in g.accounts]} for g in groups],
        )
        return TemplateResponse(request, "admin/merging/duplicates.html", context)

    def merge_view(self, request: HttpRequest) -> HttpResponse:
        if not _console_user(request):
            return HttpResponseRedirect(reverse("admin:index"))
        if request.method != "POST":
            return HttpResponseRedirect(_changelist())
        return merge_confirmation(request, request.POST.getlist("comptes"), self.admin_site)


def merge_confirmation(request: HttpRequest, ids: list[str], site: admin.AdminSite) -> HttpResponse:
    """The confirmation page, then (with confirm=oui) the merge of every account into the kept one."""
    wanted = {int(i) for i in ids if str(i).isdigit()}
    accounts = list(scope_queryset(User.objects.filter(pk__in=wanted), request).select_related("person"))
    if len(wanted) < 2 or len(accounts) != len(wanted):
        # Some are unknown or outside the scope: the same answer for both (ids cannot be probed).
        messages.error(request, _("Choisissez au moins deux comptes de votre établissement."))
        return HttpResponseRedirect(_changelist())
    accounts = suggested_order(accounts)
    keep_id = request.POST.get("conserver", "")
    keep = next((a for a in accounts if str(a.pk) == keep_id), None)
    if request.POST.get("confirm") != "oui" or keep is None:
        context = {
            **site.each_context(request),
            "title": _("Regrouper des comptes"),
            "opts": ProbableDuplicate._meta,
            "rows": _rows(accounts),
            "keep_id": keep.pk if keep is not None else accounts[0].pk,
            "error": _("Choisissez le compte à conserver.") if request.POST.get("confirm") == "oui" else "",
        }
        return TemplateResponse(request, "admin/merging/confirm.html", context)

    actor = request.user if isinstance(request.user, User) else None
    managed = managed_for(request)
    uai = ""
    if managed is not None:
        # Filed under the staff member's établissement where the kept account is a member.
        mine = Membership.objects.current().filter(person_id=keep.person_id, etablissement__in=managed)
        first = mine.select_related("etablissement").first()
        uai = first.etablissement.uai if first else managed[0].uai
    others = [a for a in accounts if a.pk != keep.pk]
    try:
        with transaction.atomic():  # a group is merged whole or not at all
            for other in others:
                services.merge_accounts(keep, other, actor=actor, via="staff", uai=uai)
    except services.MergeRefused as refusal:
        messages.error(request, str(refusal))
        return HttpResponseRedirect(_changelist())
    messages.success(
        request,
        ngettext(
            "Comptes regroupés : %(kept)s est conservé, %(closed)s est fermé. La personne est prévenue par courriel aux adresses connues.",
            "Comptes regroupés : %(kept)s est conservé, %(closed)s sont fermés. La personne est prévenue par courriel aux adresses connues.",
            len(others),
        )
        % {"kept": keep.username, "closed": ", ".join(o.username for o in others)},
    )
    return HttpResponseRedirect(_changelist())


@admin.action(description=gettext_lazy("Regrouper les deux comptes sélectionnés (même parent)"))
def merge_selected_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
    """For the accounts list (accounts/admin.py): exactly two accounts, then the confirmation page."""
    ids = list(queryset.values_list("pk", flat=True)[:3])
    if len(ids) != 2:
        modeladmin.message_user(request, _("Sélectionnez exactement deux comptes à regrouper."), messages.WARNING)
        return None
    return merge_confirmation(request, [str(i) for i in ids], modeladmin.admin_site)


@admin.display(description=gettext_lazy("regroupement"))
def regroupement(obj: User) -> str:
    """For the account's page in the console (accounts/admin.py): the merge link, both ways, and
    the audit trail of every identifier whose history now belongs to this account."""
    if obj.pk is None:
        return "—"
    if obj.merged_into_id is not None:
        kept = obj.merged_into
        assert kept is not None
        return format_html(
            _("Regroupé dans le compte {} : connexion impossible avec cet identifiant."),
            format_html('<a href="{}">{}</a>', reverse("admin:accounts_user_change", args=[kept.pk]), kept.username),
        )
    identifiers = merged_identifiers(obj)
    if len(identifiers) == 1:
        return "—"
    absorbed = User.objects.filter(merged_into=obj).order_by("deactivated_at", "pk")
    history = reverse("admin:accounts_auditevent_changelist") + "?target_username__in=" + ",".join(identifiers)
    return format_html(
        "{} {}. <a href=\"{}\">{}</a>",
        _("Comptes regroupés dans celui-ci :"),
        format_html_join(
            ", ", '<a href="{}">{}</a>', ((reverse("admin:accounts_user_change", args=[a.pk]), a.username) for a in absorbed)
        ),
        history,
        _("Historique de tous ces identifiants"),
    )
