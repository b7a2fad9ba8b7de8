"""The portal: public home, profile choice, login, logout, and the home page after login.

The login journey, each step a plain form that works without JavaScript:
  1. `index`   /                       public home, "Se connecter"
  2. `start`   /connexion/             step 1: profile (GET); step 2: level and "Mémoriser ce
                                       choix" (POST); skipped when a choice is remembered
  3. `login_view` /connexion/identifiant/  identifier and password (rules in services.py);
                                       « Conserver l'identification » on a remembered choice.
                                       Provisional credentials start the activation instead
                                       (cartable.activation), and a charter not yet accepted
                                       is asked before anything else.
  4. `home`    /accueil/               per-profile home
  5. `logout_view` /deconnexion/       POST only; GET asks for confirmation
`next` and `identifiant` (from the QR code on the letter) are carried through every step.
"""

from __future__ import annotations

import secrets
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from cartable.accounts.models import User
from cartable.activation import views as activation_views
from cartable.activation.decorators import charter_required
from cartable.activation.services import charter_to_accept, note_charter_accepted
from cartable.franceconnect import services as franceconnect_services
from cartable.franceconnect import views as franceconnect_views

from . import services
from .choice import (
    LEVELS,
    PROFILES,
    PortalChoice,
    current_choice,
    forget_choice,
    needs_level,
    remember_choice,
    remembered_choice,
    session_choice,
    store_in_session,
)
from .choice import SESSION_KEY as CHOICE_SESSION_KEY
from .dashboard import build_dashboard
from .forms import ChoiceForm, LoginForm
from .services import IDLE_LOGOUT_KEY, Outcome

# Longest identifier accepted from a query string (identifiers are at most 80 characters).
_MAX_PREFILL = 150


def _safe_next(request: HttpRequest, value: str | None) -> str:
    """`value` if it is a local URL of this site, else "" (no open redirect through ?next=)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _carry(request: HttpRequest) -> dict[str, str]:
    """The parameters that follow the visitor through the steps: next and identifiant."""
    source = request.POST if request.method == "POST" else request.GET
    carry = {}
    next_url = _safe_next(request, source.get("next"))
    if next_url:
        carry["next"] = next_url
    identifier = source.get("identifiant", "").strip()[:_MAX_PREFILL]
    if identifier:
        carry["identifiant"] = identifier
    return carry


def _url(name: str, params: dict[str, str]) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def _idle_notice(request: HttpRequest) -> None:
    """Say why a user is back on the login pages after an idle logout (once)."""
    if request.session.pop(IDLE_LOGOUT_KEY, False):
        minutes = max(1, settings.PUBLIC_SESSION_IDLE_SECONDS // 60)
        messages.info(
            request,
            ngettext(
                "Vous avez été déconnecté après %(minutes)d minute d'inactivité.",
                "Vous avez été déconnecté après %(minutes)d minutes d'inactivité.",
                minutes,
            )
            % {"minutes": minutes},
        )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/index.html")


@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Steps 1 and 2 of the portal: profile, then level and "Mémoriser ce choix"."""
    carry = _carry(request)
    if request.user.is_authenticated:
        return redirect(carry.get("next") or "portal:home")

    if request.method == "POST":
        form = ChoiceForm(request.POST)
        if form.is_valid():
            choice = form.choice()
            store_in_session(request, choice)
            if choice.is_public:
                # Even before login, nothing chosen on a public computer outlives the browser.
                request.session.set_expiry(0)
            response: HttpResponse = redirect(_url("portal:login", carry))
            if choice.remember:
                remember_choice(response, choice)
            else:
                forget_choice(response)  # "Non" also forgets what this device remembered
            return response
        return _render_step2(request, form, request.POST.get("profil", ""), carry, status=400)

    changing = "changer" in request.GET
    if not changing and current_choice(request) is not None:
        return redirect(_url("portal:login", carry))

    profile = request.GET.get("profil", "")
    if profile in PROFILES:
        remembered = remembered_choice(request)
        form = ChoiceForm(initial={"profil": profile, "memoriser": "oui" if remembered else "non"})
        return _render_step2(request, form, profile, carry)

    _idle_notice(request)
    response = render(request, "portal/start.html", {"step": 1, "profiles": PROFILES.items(), "carry": carry})
    if changing:
        # "Changer de profil": the device forgets the remembered choice.
        forget_choice(response)
        request.session.pop(CHOICE_SESSION_KEY, None)
    return response


def _render_step2(
    request: HttpRequest, form: ChoiceForm, profile: str, carry: dict[str, str], status: int = 200
) -> HttpResponse:
    if profile not in PROFILES:
        return redirect(_url("portal:start", carry))
    context = {
        "step": 2,
        "form": form,
        "profile": profile,
        "profile_label": PROFILES[profile],
        "needs_level": needs_level(profile),
        "levels": LEVELS.items(),
        "carry": carry,
        "back_url": _url("portal:start", {**carry, "changer": "1"}),
    }
    return render(request, "portal/start.html", context, status=status)


# The login page as nearly every visitor first gets it — nothing typed, no error, no message, no
# parameter — differs only by the profile choice and the CSRF token. It is the most requested page
# of an ENT (every family, every morning), and rendering it costs ~2 ms of CPU, as much as the
# rest of a login without the password hash. So each worker renders it once per profile choice
# with a placeholder where the token goes, and serves copies with the request's own token.
# The page holds no personal data (pages with a typed identifier, an error or a message are
# rendered as usual). Settings changed at run time (tests) empty the cache.
_LOGIN_PAGES: dict[tuple[str, str, bool] | None, str] = {}
_TOKEN_SLOT = f"csrf-token-slot-{secrets.token_hex(16)}"


@receiver(setting_changed)
def _forget_login_pages(**kwargs: object) -> None:
    _LOGIN_PAGES.clear()


def _plain_login_page(request: HttpRequest, context: dict[str, object]) -> HttpResponse:
    choice = cast(PortalChoice | None, context["choice"])
    key = (choice.profile, choice.level, choice.remember) if choice is not None else None
    page = _LOGIN_PAGES.get(key)
    if page is None:
        page = render_to_string("portal/login.html", {**context, "csrf_token": _TOKEN_SLOT}, request)
        _LOGIN_PAGES[key] = page
    return HttpResponse(page.replace(_TOKEN_SLOT, get_token(request)))


@sensitive_post_parameters("mot_de_passe")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    carry = _carry(request)
    if request.user.is_authenticated:
        return redirect(carry.get("next") or "portal:home")

    choice = current_choice(request)
    if choice is not None and session_choice(request) is None:
        store_in_session(request, choice)  # remembered on this device: record it in the session too

    status = 200
    retry_after = 0
    error = ""
    contacts: list[tuple[str, str]] = []
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            result = services.attempt_login(
                request, form.cleaned_data["identifiant"], form.cleaned_data["mot_de_passe"]
            )
            if result.outcome is Outcome.ACTIVATE:
                # Provisional credentials: not logged in, the activation flow starts.
                assert result.user is not None
                return activation_views.begin(request, result.user)
            if result.outcome is Outcome.OK:
                assert result.user is not None
                # « Conserver l'identification » counts only on the person's own computer.
                keep = bool(form.cleaned_data.get("conserver")) and choice is not None and choice.remember
                services.start_session(request, result.user, choice, keep_signed_in=keep)
                if result.accepted_charter_version is not None:
                    note_charter_accepted(request, result.accepted_charter_version)
                next_url = carry.get("next") or reverse("portal:home")
                if charter_to_accept(request) is not None:
                    return redirect(f"{reverse('activation:charter_update')}?{urlencode({'next': next_url})}")
                return HttpResponseRedirect(next_url)
            error = services.refusal_message(result)
            if result.outcome is Outcome.BLOCKED:
                retry_after = result.retry_after
                status = 429
            elif result.outcome is Outcome.DISABLED:
                contacts = [(name, contact) for name, contact in result.contacts if contact]
    else:
        # The password field is never pre-filled (PasswordInput does not render its value).
        form = LoginForm(initial={"identifiant": carry.get("identifiant", "")})
        _idle_notice(request)

    context = {
        "form": form,
        "error": error,
        "contacts": contacts,
        "choice": choice,
        "carry": carry,
        "change_url": _url("portal:start", {**carry, "changer": "1"}),
        "choose_url": _url("portal:start", carry),
        "idle_minutes": max(1, settings.PUBLIC_SESSION_IDLE_SECONDS // 60),
        "private_hours": max(1, settings.PRIVATE_SESSION_SECONDS // 3600),
        "remember_days": settings.REMEMBER_ME_DAYS,
    }
    if request.method == "GET" and not carry and not len(messages.get_messages(request)):
        response = _plain_login_page(request, context)
    else:
        response = render(request, "portal/login.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST logs out. GET only asks for confirmation: a link (or a prefetch) must not log out."""
    if request.method == "POST":
        # A FranceConnect session also ends at the provider (cartable.franceconnect).
        provider_logout = franceconnect_services.logout(request)
        if provider_logout is not None:
            return franceconnect_views.leave(request, provider_logout)
        services.end_session(request)
        messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
        return redirect("portal:index")
    if not request.user.is_authenticated:
        return redirect("portal:index")
    return render(request, "portal/logout.html")


@login_required
@charter_required
@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    return render(request, "portal/home.html", {"board": build_dashboard(user)})


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/help.html",
        {"idle_minutes": max(1, settings.PUBLIC_SESSION_IDLE_SECONDS // 60)},
    )

