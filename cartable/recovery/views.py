"""Forgotten identifier and forgotten password, step by step (the rules are in services.py).

Forgotten identifier:
  1. `identifier_request`  /recuperation/identifiant/      e-mail address → the same answer for
                                                            every address (e-mail sent if known)
Forgotten password:
  1. `password_request`    /recuperation/mot-de-passe/     identifier → a link, a code or
                                                            nothing is sent; redirect to 2
  2. `password_next`       …/mot-de-passe/suite/           the same page for every identifier:
                                                            "check your e-mail or your SMS", the
                                                            SMS code form (POST), resend, and
     `password_resend`     …/mot-de-passe/renvoyer/        (POST) send again
     `password_questions`  …/mot-de-passe/questions/       the two secret questions (GET/POST)
  3. `password_link`       …/mot-de-passe/lien/<token>/    the e-mailed link: its token moves
                                                            into the session, redirect to 4
  4. `password_set`        …/mot-de-passe/nouveau/         new password typed twice, on a URL
                                                            without the token (no Referer leak)
  5. `password_done`       …/mot-de-passe/termine/         "mot de passe modifié", log in

What the visitor typed in step 1 is kept in the session (REQUEST_KEY), so steps 2 and the
questions need no identifier in their URL. A right code or right answers are exchanged for a
reset token, kept in the session like the e-mailed link's (TOKEN_KEY): step 4 is the same
whichever way the person proved who they are.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from cartable.accounts import tokens
from cartable.accounts.backends import normalise_identifier
from cartable.accounts.models import Confirmation
from cartable.accounts.policy import current_policy

from . import limits, services
from .forms import AnswersForm, CodeForm, IdentifierReminderForm, NewPasswordForm, PasswordRequestForm

Kind = Confirmation.Kind

REQUEST_KEY = "cartable.recovery.identifier"  # the identifier typed in step 1 (normalised)
TOKEN_KEY = "cartable.recovery.token"  # noqa: S105 - a session key holding a reset token, out of URLs
DONE_KEY = "cartable.recovery.done"  # the identifier whose password was just set (step 5)

# Longest identifier accepted from a query string (identifiers are at most 80 characters).
_MAX_PREFILL = 150


def _throttled(request: HttpRequest, template: str, context: dict, wait: int) -> HttpResponse:
    response = render(request, template, {**context, "error": limits.retry_message(wait)}, status=429)
    response["Retry-After"] = str(wait)
    return response


# --- Forgotten identifier ----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def identifier_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "recovery/identifier_form.html", {"form": IdentifierReminderForm()})
    form = IdentifierReminderForm(request.POST)
    if not form.is_valid():
        return render(request, "recovery/identifier_form.html", {"form": form})
    address = form.cleaned_data["adresse"].strip()
    wait = limits.spend(request, (limits.per_account(), "email:" + address.lower()))
    if wait:
        return _throttled(request, "recovery/identifier_form.html", {"form": form}, wait)
    services.send_identifier_reminder(address)
    # The answer is rendered here rather than after a redirect: one response, the same for
    # every address, known or not.
    return render(request, "recovery/identifier_sent.html", {"address": address})


# --- Forgotten password, step 1: the identifier ------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def password_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        prefill = request.GET.get("identifiant", "").strip()[:_MAX_PREFILL]
        form = PasswordRequestForm(initial={"identifiant": prefill})
        return render(request, "recovery/password_form.html", {"form": form})
    form = PasswordRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "recovery/password_form.html", {"form": form})
    identifier = normalise_identifier(form.cleaned_data["identifiant"])
    wait = limits.spend(request, (limits.per_account(), identifier))
    if wait:
        return _throttled(request, "recovery/password_form.html", {"form": form}, wait)
    services.request_password_reset(identifier)
    request.session[REQUEST_KEY] = identifier
    request.session.pop(TOKEN_KEY, None)
    return redirect("recovery:password_next")


# --- Step 2: "check your e-mail or your SMS", the code, the secret questions ------------------


def _next_context(identifier: str, **extra: object) -> dict[str, object]:
    return {
        "identifier": identifier,
        "link_lifetime": services.lifetime_label(Kind.PASSWORD_RESET),
        "code_lifetime": services.lifetime_label(Kind.PASSWORD_RESET_SMS),
        "sms_per_window": limits.sms_per_number().max_failures,
        "window": services.duration_label(limits.sms_per_number().window_seconds),
        **extra,
    }


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def password_next(request: HttpRequest) -> HttpResponse:
    identifier = request.session.get(REQUEST_KEY)
    if not identifier:
        return redirect("recovery:password")
    if request.method != "POST":
        return render(request, "recovery/password_next.html", _next_context(identifier, form=CodeForm()))

    form = CodeForm(request.POST)
    if not form.is_valid():
        return render(request, "recovery/password_next.html", _next_context(identifier, form=form))
    try:
        token = services.check_reset_code(identifier, form.cleaned_data["code"])
    except tokens.TokenError as error:
        form.add_error("code", str(error))
        # A mistyped code may be typed again; an expired or spent one needs a new request.
        restart_url = reverse("recovery:password") if error.code != "invalid" else ""
        context = _next_context(identifier, form=form, restart_url=restart_url)
        return render(request, "recovery/password_next.html", context)
    request.session[TOKEN_KEY] = token
    return redirect("recovery:password_set")


@never_cache
@require_POST
def password_resend(request: HttpRequest) -> HttpResponse:
    """Send the link or the code again (a new one: the previous one stops working)."""
    identifier = request.session.get(REQUEST_KEY)
    if not identifier:
        return redirect("recovery:password")
    wait = limits.spend(request, (limits.per_account(), identifier))
    if wait:
        return _throttled(request, "recovery/password_next.html", _next_context(identifier, form=CodeForm()), wait)
    services.request_password_reset(identifier)
    messages.info(
        request,
        _("Si un compte correspond, un nouveau courriel ou un nouveau SMS vient d'être envoyé. Le précédent ne fonctionne plus."),
    )
    return redirect("recovery:password_next")


@sensitive_post_parameters("reponse_1", "reponse_2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_questions(request: HttpRequest) -> HttpResponse:
    identifier = request.session.get(REQUEST_KEY)
    if not identifier:
        return redirect("recovery:password")
    questions = services.questions_for(identifier)
    context: dict[str, object] = {"identifier": identifier}
    if request.method != "POST":
        return render(request, "recovery/password_questions.html", {**context, "form": AnswersForm(questions)})

    form = AnswersForm(questions, request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "recovery/password_questions.html", context)
    # Only wrong answers count (below), but a blocked identifier is not even checked.
    wait = limits.blocked(request, (limits.wrong_answers(), identifier))
    if wait:
        return _throttled(request, "recovery/password_questions.html", {**context, "form": AnswersForm(questions)}, wait)
    try:
        token = services.check_secret_answers(identifier, form.answers())
    except services.WrongAnswers:
        limits.spend(request, (limits.wrong_answers(), identifier))
        wait = limits.blocked(request, (limits.wrong_answers(), identifier))
        if wait:  # that failure reached the limit: say so now
            return _throttled(
                request, "recovery/password_questions.html", {**context, "form": AnswersForm(questions)}, wait
            )
        context.update(form=AnswersForm(questions), error=_("Ces réponses ne correspondent pas. Vérifiez-les et réessayez."))
        return render(request, "recovery/password_questions.html", context)
    request.session[TOKEN_KEY] = token
    return redirect("recovery:password_set")


# --- Steps 3 to 5: the link, the new password ---------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def password_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link. Only checks the token (mail scanners open links too) and moves it
    into the session, then redirects to a URL without it, as Django's PasswordResetConfirmView
    does: the token then never appears in a Referer header or in the browser's history."""
    try:
        tokens.peek_link(Kind.PASSWORD_RESET, token)
    except tokens.TokenError as error:
        return render(request, "recovery/link_error.html", {"error": str(error)}, status=400)
    request.session[TOKEN_KEY] = token
    return HttpResponseRedirect(reverse("recovery:password_set"))


@sensitive_variables("token")
@sensitive_post_parameters("nouveau_mot_de_passe", "confirmation")
@never_cache
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest) -> HttpResponse:
    token = request.session.get(TOKEN_KEY)
    if not token:
        return redirect("recovery:password")
    try:
        user = services.reset_user(token)
    except tokens.TokenError as error:
        request.session.pop(TOKEN_KEY, None)
        return render(request, "recovery/link_error.html", {"error": str(error)}, status=400)

    form = NewPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(token, form.password)
        except tokens.TokenError as error:  # used a moment ago, in another tab
            request.session.pop(TOKEN_KEY, None)
            return render(request, "recovery/link_error.html", {"error": str(error)}, status=400)
        for key in (TOKEN_KEY, REQUEST_KEY):
            request.session.pop(key, None)
        request.session[DONE_KEY] = user.username
        return redirect("recovery:password_done")
    context = {"form": form, "identifier": user.username, "policy": current_policy()}
    return render(request, "recovery/password_set.html", context)


@never_cache
@require_http_methods(["GET"])
def password_done(request: HttpRequest) -> HttpResponse:
    identifier = request.session.pop(DONE_KEY, "")
    login_url = reverse("portal:login") + (f"?{urlencode({'identifiant': identifier})}" if identifier else "")
    return render(request, "recovery/password_done.html", {"login_url": login_url})
