""""Mon compte" (/mon-compte/), for the logged-in person only; the rules are in services.py.

Tabs, each a page (works without JavaScript; the current one is aria-current):
  `profile`   /mon-compte/            identifier (not editable), e-mail, mobile; the mobile form
     `mobile`          …/telephone/          POST: sends a code to the new number
     `mobile_confirm`  …/telephone/code/     POST: the code applies the new number
  `children`  /mon-compte/enfants/    the pupils this person is responsible for
  `security`  /mon-compte/securite/   three forms, each posted to its own view:
     `password`        …/securite/mot-de-passe/
     `email`           …/securite/adresse/   sends a link to the new address, notice to the old
     `questions`       …/securite/questions/
  and "Se déconnecter", a POST to portal:logout.
The e-mailed link: `email_link` /mon-compte/adresse/<token>/ moves the token into the session
and redirects to `email_confirm` /mon-compte/adresse/confirmer/, where the logged-in owner
confirms with a button (mail scanners open links; a button needs a person).

A form with errors re-renders its tab (the other forms blank); a success redirects with a
message (post/redirect/get).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from cartable.accounts import tokens
from cartable.accounts.models import User
from cartable.accounts.policy import current_policy
from cartable.accounts.questions import QUESTIONS
from cartable.activation.decorators import charter_required
from cartable.linking import services as linking
from cartable.recovery import limits
from cartable.recovery import services as recovery

from . import services
from .forms import EmailChangeForm, MobileChangeForm, MobileCodeForm, PasswordChangeForm, QuestionsForm

EMAIL_TOKEN_KEY = "cartable.myaccount.email_token"  # noqa: S105 - a session key; the token stays out of URLs

# Form prefixes: three forms share the Sécurité page, so their field ids must differ.
PASSWORD, EMAIL, QUESTIONS_PREFIX, MOBILE, CODE = "mdp", "adresse", "questions", "mobile", "code"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required


def _tabs(user: User, tab: str) -> dict[str, object]:
    return {"tab": tab, "show_children": services.has_children_tab(user)}


# --- Profil ------------------------------------------------------------------------------------


def _profile_page(request: HttpRequest, *, mobile_form: MobileChangeForm | None = None,
                  code_form: MobileCodeForm | None = None, error: str = "", status: int = 200) -> HttpResponse:
    user = _user(request)
    pending_mobile = services.pending_mobile_change(user)
    pending_email = services.pending_email_change(user)
    context = {
        **_tabs(user, "profile"),
        "account": user,
        "mobile_display": services.display_phone(user.mobile),
        "pending_email": pending_email.payload.get("email", "") if pending_email else "",
        "pending_mobile_display": services.display_phone(pending_mobile.payload.get("mobile", "")) if pending_mobile else "",
        "mobile_form": mobile_form or MobileChangeForm(request, user, prefix=MOBILE),
        "code_form": code_form or MobileCodeForm(prefix=CODE),
        "error": error,
    }
    return render(request, "myaccount/profile.html", context, status=status)


@login_required
@charter_required
@never_cache
@require_http_methods(["GET"])
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@charter_required
@sensitive_post_parameters(f"{MOBILE}-mot_de_passe_actuel")
@never_cache
@require_POST
def mobile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = MobileChangeForm(request, user, request.POST, prefix=MOBILE)
    if not form.is_valid():
        return _profile_page(request, mobile_form=form)
    wait = services.request_mobile_change(user, form.cleaned_data["nouveau_numero"])
    if wait:
        return _profile_page(request, mobile_form=form, error=limits.retry_message(wait), status=429)
    messages.success(request, _("Un code vient d'être envoyé par SMS au nouveau numéro : saisissez-le ci-dessous."))
    return HttpResponseRedirect(reverse("myaccount:profile") + "#telephone")


@login_required
@charter_required
@sensitive_post_parameters(f"{CODE}-code")
@never_cache
@require_POST
def mobile_confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = MobileCodeForm(request.POST, prefix=CODE)
    if not form.is_valid():
        return _profile_page(request, code_form=form)
    try:
        services.confirm_mobile_change(user, form.cleaned_data["code"])
    except tokens.TokenError as error:
        form.add_error("code", str(error))
        return _profile_page(request, code_form=form)
    messages.success(request, _("Votre numéro de téléphone portable est enregistré."))
    return redirect("myaccount:profile")


# --- Enfants -----------------------------------------------------------------------------------


@login_required
@charter_required
@never_cache
@require_http_methods(["GET"])
def children(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    children = services.children_of(user)
    # Each child with its link (cartable.linking): « Signaler une erreur » or the open report.
    links = {(link.pupil_name, link.etablissement, link.level): link for link in linking.child_links(user)}
    rows = [(child, links.get((child.name, child.etablissement, child.link))) for child in children]
    context = {**_tabs(user, "children"), "children": children, "rows": rows, "reports": linking.reports_of(user)[:20]}
    return render(request, "myaccount/children.html", context)


# --- Sécurité ----------------------------------------------------------------------------------


def _security_page(request: HttpRequest, **forms: Any) -> HttpResponse:
    user = _user(request)
    pending_email = services.pending_email_change(user)
    context = {
        **_tabs(user, "security"),
        "account": user,
        "policy": current_policy(),
        "pending_email": pending_email.payload.get("email", "") if pending_email else "",
        "email_lifetime": recovery.lifetime_label(services.Kind.EMAIL_CHANGE),
        "questions": [QUESTIONS[a.question] for a in user.secret_answers.order_by("question")],
        "password_form": forms.get("password_form") or PasswordChangeForm(request, user, prefix=PASSWORD),
        "email_form": forms.get("email_form") or EmailChangeForm(request, user, prefix=EMAIL),
        "questions_form": forms.get("questions_form") or QuestionsForm(request, user, prefix=QUESTIONS_PREFIX),
    }
    return render(request, "myaccount/security.html", context)


@login_required
@charter_required
@never_cache
@require_http_methods(["GET"])
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@login_required
@charter_required
@sensitive_post_parameters(
    f"{PASSWORD}-mot_de_passe_actuel", f"{PASSWORD}-nouveau_mot_de_passe", f"{PASSWORD}-confirmation"
)
@never_cache
@require_POST
def password(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request, user, request.POST, prefix=PASSWORD)
    if not form.is_valid():
        return _security_page(request, password_form=form)
    recovery.set_password(user, form.password)
    update_session_auth_hash(request, user)  # this session stays open; the others end
    messages.success(request, _("Votre mot de passe a été modifié."))
    return redirect("myaccount:security")


@login_required
@charter_required
@sensitive_post_parameters(f"{EMAIL}-mot_de_passe_actuel")
@never_cache
@require_POST
def email(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = EmailChangeForm(request, user, request.POST, prefix=EMAIL)
    if not form.is_valid():
        return _security_page(request, email_form=form)
    address = form.cleaned_data["nouvelle_adresse"]
    services.request_email_change(user, address)
    messages.success(
        request,
        _("Un lien de confirmation vient d'être envoyé à %(address)s. Votre adresse changera quand vous l'aurez ouvert.")
        % {"address": address},
    )
    return redirect("myaccount:security")


@login_required
@charter_required
@sensitive_post_parameters(
    f"{QUESTIONS_PREFIX}-mot_de_passe_actuel", f"{QUESTIONS_PREFIX}-reponse_1", f"{QUESTIONS_PREFIX}-reponse_2"
)
@never_cache
@require_POST
def questions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = QuestionsForm(request, user, request.POST, prefix=QUESTIONS_PREFIX)
    if not form.is_valid():
        return _security_page(request, questions_form=form)
    services.set_secret_answers(user, form.pairs())
    messages.success(request, _("Vos questions secrètes sont enregistrées."))
    return redirect("myaccount:security")


# --- The e-mailed link to a new address ----------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def email_link(request: HttpRequest, token: str) -> HttpResponse:
    """Check the token without using it, move it into the session, redirect to a URL without it
    (logging in first if needed: the `next` URL then carries no token either)."""
    try:
        tokens.peek_link(services.Kind.EMAIL_CHANGE, token)
    except tokens.TokenError as error:
        return render(request, "myaccount/link_error.html", {"error": str(error)}, status=400)
    request.session[EMAIL_TOKEN_KEY] = token
    return HttpResponseRedirect(reverse("myaccount:email_confirm"))


@login_required
@charter_required
@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    token = request.session.get(EMAIL_TOKEN_KEY)
    if not token:
        return redirect("myaccount:security")
    try:
        address = services.email_change_for(user, token)
        if request.method == "POST":
            services.confirm_email_change(user, token)
    except tokens.TokenError as error:
        request.session.pop(EMAIL_TOKEN_KEY, None)
        return render(request, "myaccount/link_error.html", {"error": str(error)}, status=400)
    if request.method == "POST":
        request.session.pop(EMAIL_TOKEN_KEY, None)
        messages.success(request, _("Votre adresse électronique est maintenant %(address)s.") % {"address": address})
        return redirect("myaccount:profile")
    return render(request, "myaccount/email_confirm.html", {"tab": "security", "address": address})
