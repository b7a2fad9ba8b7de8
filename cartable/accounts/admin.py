"""Staff console screens for accounts and the audit trail (scoped like the directory's).

Accounts are created by imports (`services.create_accounts`), never here, and their identifier
never changes. The password hash is never shown: a forgotten or lost password is replaced by
printing a new letter, which the audit trail records.

Also here: « Réactiver le compte », the activation dashboard (per établissement and per class,
numbers from cartable.activation.stats) and the charter, published in numbered versions.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_variables

from cartable.activation import expiry, stats
from cartable.directory.admin import (
    DivisionFilter,
    ProfileFilter,
    ScopedAdminMixin,
    letters_message,
    managed_for,
    pdf_response,
    printable_accounts,
    scope_of,
    scope_queryset,
)
from cartable.directory.models import Etablissement, Membership
from cartable.merging.admin import merge_selected_accounts, regroupement

from .letters import french_date, issue_letters, letters_filename
from .models import AuditEvent, Charter, User
from .services import audit

# The console's home page links to the activation dashboard (the template adds one box).
admin.site.index_template = "admin/accounts/index.html"


class ConsoleLoginForm(AdminAuthenticationForm):
    """Provisional credentials log in nowhere, the console included: the account is activated first."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)  # inactive or non-staff: Django's generic refusal
        if user.activated_at is None:
            raise ValidationError(
                _("Ce mot de passe est provisoire : activez d'abord votre compte (« Activer mon compte » sur le portail)."),
                code="not_activated",
            )


admin.site.login_form = ConsoleLoginForm


class AccountProfileFilter(ProfileFilter):
    person_field = "person_id"


class AccountDivisionFilter(DivisionFilter):
    person_field = "person_id"


class StatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("état")
    parameter_name = "etat"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("active", _("Activé")),
            ("waiting", _("Lettre remise, en attente d'activation")),
            ("expired", _("Délai d'activation dépassé")),
            ("never", _("Aucune lettre remise")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start_of_valid = timezone.now() - datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)
        waiting = queryset.filter(activated_at__isnull=True, credentials_issued_at__isnull=False)
        match self.value():
            case "active":
                return queryset.filter(activated_at__isnull=False)
            # The portal refuses provisional credentials once now > issued + deadline.
            case "waiting":
                return waiting.filter(credentials_issued_at__gte=start_of_valid)
            case "expired":
                return waiting.filter(credentials_issued_at__lt=start_of_valid)
            case "never":
                return queryset.filter(activated_at__isnull=True, credentials_issued_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["username", "full_name", "profiles", "status", "is_active"]
    list_filter = [StatusFilter, AccountProfileFilter, AccountDivisionFilter, "is_active", "is_staff"]
    search_fields = ["username", "person__last_name", "person__usage_name", "person__first_name", "email"]
    list_select_related = ["person"]
    actions = ["print_letters", "reset_and_print_letters", "reactivate", merge_selected_accounts]
    change_list_template = "admin/accounts/user/change_list.html"
    # Accounts are made by imports, and deleting one is left to the retention rules (and to a
    # superuser): a secretary deactivates an account instead.
    staff_can_add = False
    staff_can_delete = False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # `password` is in no fieldset: neither the hash nor a way to set one is ever shown.
        access = ["is_active", "is_staff", "is_superuser"] if request.user.is_superuser else ["is_active"]
        return [
            (None, {"fields": ["username", "person_link", "email", "email_verified"]}),
            (
                gettext_lazy("Identifiants provisoires"),
                {"fields": ["status", "credentials_issued_at", "deadline", "activated_at"]},
            ),
            (
                gettext_lazy("Accès"),
                {"fields": [*access, "deactivated_at", "deactivation_reason", regroupement, "last_login", "date_joined"]},
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        readonly: list[Any] = [
            "username",  # the identifier never changes (printed on letters, known to partners)
            "person_link",
            "status",
            "credentials_issued_at",
            "deadline",
            "activated_at",
            "deactivated_at",
            "deactivation_reason",
            regroupement,
            "last_login",
            "date_joined",
        ]
        if obj is not None and obj.merged_into_id is not None:
            readonly.append("is_active")  # merged (cartable.merging): closed for good
        if not request.user.is_superuser:
            # The personal address is where password recovery goes: changed by someone else, it
            # would hand over the account silently. A staff reset goes through a letter instead.
            readonly += ["email", "email_verified"]
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A colleague's console account is left to a superuser (deactivating the principal's
        # account is not a secretary's call).
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if "is_active" in form.changed_data:
            # Say when and why an account stopped working (the console shows it, « Réactiver » reads it).
            obj.deactivated_at = None if obj.is_active else timezone.now()
            obj.deactivation_reason = "" if obj.is_active else DEACTIVATED_BY_STAFF
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            audit(
                "account.updated",
                actor=request.user if isinstance(request.user, User) else None,
                target=obj,
                uai=_uai_for(request, obj),
                fields=sorted(form.changed_data),
            )

    # --- columns ---

    @admin.display(description=gettext_lazy("nom"), ordering="person__last_name")
    def full_name(self, obj: User) -> str:
        return obj.person.full_name if obj.person is not None else "—"

    @admin.display(description=gettext_lazy("personne"))
    def person_link(self, obj: User) -> str:
        if obj.person is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:directory_person_change", args=[obj.person.pk]), obj.person)

    @admin.display(description=gettext_lazy("profils"))
    def profiles(self, obj: User) -> str:
        if obj.person is None:
            return "—"
        return ", ".join(
            f"{m.get_profile_display()} {m.division}" if m.division_id else str(m.get_profile_display())
            for m in getattr(obj.person, "scoped_memberships", [])
        )

    @admin.display(description=gettext_lazy("état"))
    def status(self, obj: User) -> str:
        if obj.is_activated:
            return _("Activé le %(date)s") % {"date": french_date(obj.activated_at)}  # type: ignore[arg-type]
        if obj.activation_deadline is None:
            return _("Aucune lettre remise")
        if obj.activation_deadline <= timezone.now():
            return _("Délai dépassé le %(date)s") % {"date": french_date(obj.activation_deadline)}
        return _("À activer avant le %(date)s") % {"date": french_date(obj.activation_deadline)}

    @admin.display(description=gettext_lazy("date limite d'activation"))
    def deadline(self, obj: User) -> str:
        return french_date(obj.activation_deadline) if obj.activation_deadline else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The profiles column shows only this console's établissements (prefetched, scoped).
        memberships = scope_queryset(Membership.objects.current(), request).select_related("division")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("person__memberships", queryset=memberships, to_attr="scoped_memberships"))
        )

    # --- letter actions ---

    @admin.action(description=gettext_lazy("Imprimer les lettres (nouveaux identifiants provisoires)"))
    def print_letters(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Letters for accounts not yet activated; activated ones are skipped and counted."""
        return self._print(request, queryset, reset=False)

    @admin.action(description=gettext_lazy("Réinitialiser le compte et imprimer la lettre"))
    def reset_and_print_letters(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Activated accounts too, after a confirmation page: their current password stops working."""
        if request.POST.get("confirm") != "yes":
            users = list(queryset.select_related("person"))
            context = {
                **self.admin_site.each_context(request),
                "title": _("Réinitialiser le compte et imprimer la lettre"),
                "opts": self.model._meta,
                "users": users,
                "activated": sum(u.is_activated for u in users),
                "action": "reset_and_print_letters",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/accounts/user/reset_letters.html", context)
        return self._print(request, queryset, reset=True)

    @admin.action(description=gettext_lazy("Réactiver le compte"))
    @sensitive_variables()
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        """Deactivated accounts work again.

        An account deactivated by the activation deadline (or whose letter expired) gets a new
        letter: its old provisional password would not work any more. An account deactivated
        otherwise (by a staff member) just gets `is_active` back. Active accounts are left alone.
        """
        users, console_accounts = printable_accounts(request, list(queryset.select_related("person")))
        now = timezone.now()
        # A merged account stays closed (cartable.merging): its children belong to the kept one.
        inactive = [u for u in users if not u.is_active and u.merged_into_id is None]
        need_letter = [u for u in inactive if _needs_new_letter(u, now)]
        switched_on = [u for u in inactive if u not in need_letter]
        actor = request.user if isinstance(request.user, User) else None
        with transaction.atomic():
            User.objects.filter(pk__in=[u.pk for u in switched_on], is_active=False).update(
                is_active=True, deactivated_at=None, deactivation_reason=""
            )
            for user in switched_on:
                audit("account.reactivated", actor=actor, target=user, uai=_uai_for(request, user))
            batch = issue_letters(need_letter, actor=actor, etablissements=managed_for(request)) if need_letter else None
            if batch is not None:
                _clear_deactivation(batch.printed)
        parts = []
        if switched_on:
            parts.append(
                ngettext("%(count)d compte réactivé.", "%(count)d comptes réactivés.", len(switched_on))
                % {"count": len(switched_on)}
            )
        if batch is not None and batch.printed:
            parts.append(
                ngettext(
                    "%(count)d compte réactivé avec une nouvelle lettre (délai d'activation dépassé).",
                    "%(count)d comptes réactivés avec une nouvelle lettre (délai d'activation dépassé).",
                    len(batch.printed),
                )
                % {"count": len(batch.printed)}
            )
        if len(users) > len(inactive):
            parts.append(
                ngettext(
                    "%(count)d compte déjà actif ignoré.", "%(count)d comptes déjà actifs ignorés.", len(users) - len(inactive)
                )
                % {"count": len(users) - len(inactive)}
            )
        if console_accounts:
            parts.append(letters_message_console(console_accounts))
        self.message_user(request, " ".join(parts) or _("Aucun compte réactivé."), messages.SUCCESS if inactive else messages.WARNING)
        if batch is not None and batch.printed:
            etabs = managed_for(request)
            return pdf_response(batch.pdf, letters_filename(etabs[0] if etabs and len(etabs) == 1 else None))
        return None

    @sensitive_variables()
    def _print(self, request: HttpRequest, queryset: QuerySet[User], *, reset: bool) -> HttpResponse | None:
        printable, console_accounts = printable_accounts(request, list(queryset.select_related("person")))
        with transaction.atomic():
            batch = issue_letters(
                printable,
                actor=request.user if isinstance(request.user, User) else None,
                reset_activated=reset,
                etablissements=managed_for(request),
            )
            # A new letter makes the account work again: it is no longer "deactivated".
            _clear_deactivation(batch.printed)
        message = letters_message(batch, console_accounts)
        if not batch.printed:
            self.message_user(request, message, messages.WARNING)
            return None
        self.message_user(request, message, messages.SUCCESS)
        etabs = managed_for(request)
        return pdf_response(batch.pdf, letters_filename(etabs[0] if etabs and len(etabs) == 1 else None))


    # --- activation dashboard ---

    def get_urls(self) -> list[Any]:
        dashboard = [
            path("activations/", self.admin_site.admin_view(self.dashboard_view), name="accounts_user_dashboard"),
            path(
                "activations/<int:etablissement_id>/",
                self.admin_site.admin_view(self.dashboard_etablissement_view),
                name="accounts_user_dashboard_etablissement",
            ),
        ]
        return dashboard + super().get_urls()  # before the catch-all "<object_id>/"

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Every établissement in scope, one line each."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        etablissements = list(scope_queryset(Etablissement.objects.order_by("name"), request))
        if len(etablissements) == 1:
            return redirect("admin:accounts_user_dashboard_etablissement", etablissements[0].pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Activation des comptes"),
            "opts": self.model._meta,
            "rows": stats.by_etablissement(etablissements),
            "deadline_days": settings.ACTIVATION_DEADLINE_DAYS,
        }
        return TemplateResponse(request, "admin/accounts/user/activation_dashboard.html", context)

    def dashboard_etablissement_view(self, request: HttpRequest, etablissement_id: int) -> HttpResponse:
        """One établissement: per profile, then per class (pupils and their legal representatives)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        etablissement = scope_queryset(Etablissement.objects.all(), request).filter(pk=etablissement_id).first()
        if etablissement is None:
            raise Http404(_("Cet objet n'existe pas ou ne relève pas de votre établissement."))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Activation des comptes — %(name)s") % {"name": etablissement.name},
            "opts": self.model._meta,
            "etablissement": etablissement,
            "profiles": stats.by_profile(etablissement),
            "divisions": stats.by_division(etablissement),
            "deadline_days": settings.ACTIVATION_DEADLINE_DAYS,
            "several": scope_of(request).everything or len(scope_of(request).ids) > 1,
        }
        return TemplateResponse(request, "admin/accounts/user/activation_dashboard_etablissement.html", context)


# Why an account stopped working: set by the console (this one) or by expire_accounts.
DEACTIVATED_BY_STAFF = "staff"


def _needs_new_letter(user: User, now: datetime.datetime) -> bool:
    """A never-activated account whose provisional password is gone or past its deadline."""
    if user.activated_at is not None:
        return False
    return (
        user.deactivation_reason == expiry.REASON
        or user.activation_deadline is None
        or now > user.activation_deadline
    )


def _clear_deactivation(users: list[User]) -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).exclude(deactivated_at=None, deactivation_reason="").update(
        deactivated_at=None, deactivation_reason=""
    )


def letters_message_console(console_accounts: list[User]) -> str:
    return ngettext(
        "%(count)d compte de la console ignoré (à demander à un administrateur).",
        "%(count)d comptes de la console ignorés (à demander à un administrateur).",
        len(console_accounts),
    ) % {"count": len(console_accounts)}


def _uai_for(request: HttpRequest, user: User) -> str:
    managed = managed_for(request)
    memberships = Membership.objects.current().filter(person_id=user.person_id).select_related("etablissement")
    if managed is not None:
        memberships = memberships.filter(etablissement__in=managed)
    first = memberships.first()
    return first.etablissement.uai if first else ""


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only, for everyone: the trail is append-only."""

    list_display = ["at", "action", "target_username", "etablissement_uai", "actor"]
    list_filter = ["action"]
    search_fields = ["target_username", "action"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    fields = readonly_fields = ("at", "action", "target_username", "etablissement_uai", "actor", "detail")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Charter)
class CharterAdmin(admin.ModelAdmin):
    """The charter, published in numbered versions; a new one is asked again at the next login.

    Superusers and the direction and secrétariat (console users) publish versions. A published
    version never changes (people accepted that text): a change is a new version, prefilled
    with the current text. A version not yet published (future date) can still be edited.
    """

    list_display = ["version", "title", "published_at", "acceptance_count"]
    fields = ["version", "title", "text", "published_at", "created_by"]
    readonly_fields = ["version", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(_acceptances=Count("acceptances")).select_related("created_by")

    @admin.display(description=gettext_lazy("acceptations"), ordering="_acceptances")
    def acceptance_count(self, obj: Charter) -> int:
        return getattr(obj, "_acceptances", 0)

    def _console_user(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff and scope_of(request).is_console_user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._console_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._console_user(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._console_user(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        published = obj is not None and obj.published_at <= timezone.now()
        return self._console_user(request) and not published

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accepted versions are the record of what people agreed to (and PROTECTed).
        return bool(request.user.is_superuser) and (obj is None or not obj.acceptances.exists())

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        current = Charter.current()
        if current is None:
            return super().get_changeform_initial_data(request)
        return {"title": current.title, "text": current.text}

    def save_model(self, request: HttpRequest, obj: Charter, form: Any, change: bool) -> None:
        actor = request.user if isinstance(request.user, User) else None
        with transaction.atomic():
            if not change:
                # The unique version number settles two simultaneous publications (one fails).
                obj.version = (Charter.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                obj.created_by = actor
            super().save_model(request, obj, form, change)
            audit(
                "charter.changed" if change else "charter.published",
                actor=actor,
                target="",
                uai="",
                version=obj.version,
                published_at=obj.published_at.isoformat(),
            )
