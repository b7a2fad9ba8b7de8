"""Activating an account (first connection, or again after a staff reset), read top to bottom.

How it starts (the account is never logged in by its provisional password):
  - a login with the right provisional password of an account never activated
    (portal.views.login_view), or
  - `start`  /activation/ (portal:activate) « Activer mon compte », and
             /activation/compte-reinitialise/ « Mon compte a été réinitialisé »: identifier and
             provisional password, with the login's throttling and messages.
Either way `begin()` puts the pending activation in the session (state.py) and sends the person
to the first step. Provisional credentials past their deadline get the deactivated message.

The steps, one view each, state in the session until the final write (services.py):
  a. `charter`      /activation/charte/             read and accept Charter.current()
  b. `birth_dates`  /activation/enfants/            parents: each child's birth date (throttled)
  c. `email`        /activation/adresse/            personal e-mail typed twice, with the notice;
                                                    optional unless ACTIVATION_EMAIL_REQUIRED
  d. `questions`    /activation/questions-secretes/ without e-mail: two different questions
  e. `password`     /activation/mot-de-passe/       new password typed twice, under the policy
  f. with e-mail:   `sent` « Consultez votre messagerie »; the e-mailed link `link`
                    /activation/confirmer/<token>/ moves the token into the session and redirects
                    to `confirm` /activation/confirmer/, which shows a button (mail scanners open
                    links) whose POST activates; then `done`.
     without:       the password step activates at once; then `done`
                    /activation/compte-active/ « Compte activé ! » → « Accéder à l'ENT ».

After login, `charter_update` /activation/charte/nouvelle-version/ asks for a newer charter
(`decorators.charter_required` guards the pages of the ENT).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from cartable.accounts.models import Charter, User
from cartable.accounts.policy import current_policy
from cartable.accounts.tokens import TokenError, TokenInvalid
from cartable.lib import throttle
from cartable.portal import services as portal_services
from cartable.portal.services import Outcome

from . import services, state
from .forms import BirthDatesForm, CharterForm, EmailForm, PasswordForm, QuestionsForm, StartForm, policy_data
from .services import ActivationRefused

STEP_URLS = {
    state.CHARTER: "activation:charter",
    state.BIRTH_DATES: "activation:birth_dates",
    state.EMAIL: "activation:email",
    state.QUESTIONS: "activation:questions",
    state.PASSWORD: "activation:password",
}
STEP_TITLES = {
    state.CHARTER: gettext_lazy("Charte d'utilisation"),
    state.BIRTH_DATES: gettext_lazy("Date de naissance de vos enfants"),
    state.EMAIL: gettext_lazy("Adresse électronique"),
    state.QUESTIONS: gettext_lazy("Questions secrètes"),
    state.PASSWORD: gettext_lazy("Mot de passe"),
}

StepView = Callable[[HttpRequest, state.Pending, User], HttpResponse]


# --- Starting --------------------------------------------------------------------------------


def begin(request: HttpRequest, user: User, *, reset: bool = False) -> HttpResponse:
    """Start the activation of `user` (whose provisional password was just checked)."""
    pending = services.begin_activation(request, user, reset=reset)
    return redirect(STEP_URLS[pending.next_step()])


@sensitive_post_parameters("mot_de_passe")
@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, reset: bool = False) -> HttpResponse:
    """« Activer mon compte » / « Mon compte a été réinitialisé »: the letter's credentials."""
    if request.user.is_authenticated:
        return redirect("portal:home")
    status = 200
    error = ""
    contacts: list[tuple[str, str]] = []
    already_active = False
    if request.method == "POST":
        form = StartForm(request.POST)
        if form.is_valid():
            result = portal_services.attempt_login(
                request, form.cleaned_data["identifiant"], form.cleaned_data["mot_de_passe"]
            )
            if result.outcome is Outcome.ACTIVATE:
                assert result.user is not None
                return begin(request, result.user, reset=reset)
            if result.outcome is Outcome.OK:
                # The person typed the password they chose: nothing to activate, log in instead.
                already_active = True
            else:
                error = portal_services.refusal_message(result)
                contacts = [(name, contact) for name, contact in result.contacts if contact]
                status = 429 if result.outcome is Outcome.BLOCKED else 200
    else:
        form = StartForm(initial={"identifiant": request.GET.get("identifiant", "")[:150]})
    response = render(
        request,
        "activation/start.html",
        {"form": form, "reset": reset, "error": error, "contacts": contacts, "already_active": already_active},
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(portal_services.blocked_for(request, form.data.get("identifiant", "")))
    return response


def _problem(request: HttpRequest, message: str, *, status: int = 400, restart: bool = True) -> HttpResponse:
    return render(request, "activation/problem.html", {"message": message, "restart": restart}, status=status)


def step(name: str) -> Callable[[StepView], Callable[[HttpRequest], HttpResponse]]:
    """A step of the flow: needs a pending activation still valid, and the earlier steps done.

    A step reached too early sends to the first step not done; a finished step may be seen
    again (« Étape précédente »).
    """

    def decorator(view: StepView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        @never_cache
        def wrapper(request: HttpRequest) -> HttpResponse:
            pending = state.load(request)
            if pending is None or pending.expired():
                state.clear(request)
                return _problem(
                    request,
                    _(
                        "Aucune activation n'est en cours (ou elle a duré trop longtemps). "
                        "Recommencez avec l'identifiant et le mot de passe provisoire de votre lettre."
                    ),
                )
            try:
                user = services.pending_account(pending)
            except ActivationRefused as refusal:
                state.clear(request)
                return _problem(request, str(refusal), status=409)
            steps = pending.steps()
            first_missing = pending.next_step()
            if name not in steps or steps.index(name) > steps.index(first_missing):
                return redirect(STEP_URLS[first_missing])
            return view(request, pending, user)

        return wrapper

    return decorator


def _context(pending: state.Pending, current: str, **extra: object) -> dict[str, object]:
    steps = pending.steps()
    index = steps.index(current)
    return {
        "pending": pending,
        "step_number": index + 1,
        "step_count": len(steps),
        "step_title": STEP_TITLES[current],
        "back_url": reverse(STEP_URLS[steps[index - 1]]) if index else "",
        **extra,
    }


def _next(request: HttpRequest, pending: state.Pending) -> HttpResponse:
    state.save(request, pending)
    return redirect(STEP_URLS[pending.next_step()])


# --- a. The charter --------------------------------------------------------------------------


@step(state.CHARTER)
@require_http_methods(["GET", "POST"])
def charter(request: HttpRequest, pending: state.Pending, user: User) -> HttpResponse:
    document = Charter.objects.filter(version=pending.charter_version or 0).first() or Charter.current()
    if document is None:  # withdrawn meanwhile: nothing to accept
        pending.charter_version, pending.charter_accepted = None, False
        return _next(request, pending)
    if request.method == "POST":
        form = CharterForm(request.POST)
        if form.is_valid():
            pending.charter_version, pending.charter_accepted = document.version, True
            return _next(request, pending)
    else:
        form = CharterForm(initial={"accepte": pending.charter_accepted})
    return render(request, "activation/charter.html", _context(pending, state.CHARTER, form=form, charter=document))


# --- b. The children's birth dates -----------------------------------------------------------


@step(state.BIRTH_DATES)
@require_http_methods(["GET", "POST"])
def birth_dates(request: HttpRequest, pending: state.Pending, user: User) -> HttpResponse:
    children = services.children_to_check(user)
    if not children:  # links removed by an import meanwhile
        pending.has_children = False
        return _next(request, pending)
    error = ""
    retry_after = throttle.retry_after(services.birth_date_limit(), f"user:{user.pk}")
    if request.method == "POST":
        form = BirthDatesForm(request.POST, children=children)
        if form.is_valid():
            check = services.check_birth_dates(user, form.typed_dates())
            if check.ok:
                pending.children_checked = True
                return _next(request, pending)
            retry_after = check.retry_after
            if not retry_after:
                error = ngettext(
                    "Les dates saisies ne correspondent pas à celles que connaît l'établissement. "
                    "Vérifiez-les (il vous reste %(count)d essai).",
                    "Les dates saisies ne correspondent pas à celles que connaît l'établissement. "
                    "Vérifiez-les (il vous reste %(count)d essais).",
                    check.remaining,
                ) % {"count": check.remaining}
    else:
        form = BirthDatesForm(children=children)
    if retry_after:
        minutes = throttle.minutes_label(retry_after)
        error = ngettext(
            "Trop d'essais. Réessayez dans %(minutes)d minute, ou contactez votre établissement.",
            "Trop d'essais. Réessayez dans %(minutes)d minutes, ou contactez votre établissement.",
            minutes,
        ) % {"minutes": minutes}
    context = _context(pending, state.BIRTH_DATES, form=form, error=error, blocked=bool(retry_after))
    response = render(request, "activation/birth_dates.html", context, status=429 if retry_after else 200)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# --- c. The personal e-mail address ----------------------------------------------------------


@step(state.EMAIL)
@require_http_methods(["GET", "POST"])
def email(request: HttpRequest, pending: state.Pending, user: User) -> HttpResponse:
    if request.method == "POST":
        form = EmailForm(request.POST, declining="sans_adresse" in request.POST)
        if form.is_valid():
            pending.email = form.cleaned_data["email"]
            pending.email_chosen = True
            if pending.email:
                pending.answers = []  # the address replaces the secret questions
            return _next(request, pending)
    else:
        form = EmailForm(initial={"email": pending.email, "email2": pending.email})
    context = _context(pending, state.EMAIL, form=form, email_required=settings.ACTIVATION_EMAIL_REQUIRED)
    return render(request, "activation/email.html", context)


# --- d. Two secret questions (no e-mail) ------------------------------------------------------


@step(state.QUESTIONS)
@sensitive_post_parameters("reponse1", "reponse2")
@require_http_methods(["GET", "POST"])
def questions(request: HttpRequest, pending: state.Pending, user: User) -> HttpResponse:
    if request.method == "POST":
        form = QuestionsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            pending.answers = [
                [data["question1"], services.hash_answer(data["reponse1"])],
                [data["question2"], services.hash_answer(data["reponse2"])],
            ]
            return _next(request, pending)
    else:
        initial = {f"question{i + 1}": question for i, (question, _hash) in enumerate(pending.answers)}
        form = QuestionsForm(initial=initial)
    return render(request, "activation/questions.html", _context(pending, state.QUESTIONS, form=form))


# --- e. The new password, then the final write or the e-mail ----------------------------------


@step(state.PASSWORD)
@sensitive_post_parameters("mot_de_passe1", "mot_de_passe2")
@sensitive_variables("password_hash")
@require_http_methods(["GET", "POST"])
def password(request: HttpRequest, pending: state.Pending, user: User) -> HttpResponse:
    if request.method == "POST":
        form = PasswordForm(request.POST, user=user)
        if form.is_valid():
            password_hash = make_password(form.cleaned_data["mot_de_passe1"])
            issued_at = user.credentials_issued_at
            charter_version = pending.charter_version if pending.charter_accepted else None
            try:
                if pending.email:
                    services.send_activation_link(
                        user,
                        issued_at=issued_at,
                        password_hash=password_hash,
                        email=pending.email,
                        charter_version=charter_version,
                    )
                else:
                    services.activate_account(
                        user.pk,
                        issued_at=issued_at,
                        password_hash=password_hash,
                        charter_version=charter_version,
                        answers=[(question, hashed) for question, hashed in pending.answers],
                    )
            except ActivationRefused as refusal:
                state.clear(request)
                return _problem(request, str(refusal), status=409)
            state.clear(request)
            if pending.email:
                request.session[state.SENT_KEY] = {"email": pending.email, "username": user.username}
                return redirect("activation:sent")
            request.session[state.DONE_KEY] = user.username
            return redirect("activation:done")
    else:
        form = PasswordForm(user=user)
    policy = current_policy()
    context = _context(
        pending,
        state.PASSWORD,
        form=form,
        policy=policy,
        policy_data=policy_data(policy),
        finishes_by_email=bool(pending.email),
        account_username=user.username,  # for password managers (a hidden username field)
    )
    return render(request, "activation/password.html", context)


# --- f. With e-mail: the message, the link, the confirmation ----------------------------------


@never_cache
@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    data = request.session.get(state.SENT_KEY)
    if not isinstance(data, dict):
        return redirect("portal:activate")
    return render(request, "activation/sent.html", {"email": data.get("email", "")})


@never_cache
@require_GET
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: checked, then moved into the session so it leaves the address bar."""
    try:
        services.peek_activation_link(token, for_user=_logged_in(request))
    except TokenError as error:
        return _problem(request, str(error), restart=True)
    request.session[state.LINK_KEY] = token
    return redirect("activation:confirm")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """GET shows a button (mail scanners open links, so GET changes nothing); POST activates."""
    token = request.session.get(state.LINK_KEY, "")
    try:
        if not token:
            raise TokenInvalid()
        if request.method == "POST":
            user = services.confirm_activation_link(token, for_user=_logged_in(request))
        else:
            confirmation = services.peek_activation_link(token, for_user=_logged_in(request))
            return render(
                request,
                "activation/confirm.html",
                {"account": confirmation.user, "email": confirmation.payload.get("email", "")},
            )
    except TokenError as error:
        return _problem(request, str(error))
    except ActivationRefused as refusal:
        request.session.pop(state.LINK_KEY, None)
        return _problem(request, str(refusal), status=409)
    request.session.pop(state.LINK_KEY, None)
    pending = state.load(request)
    if pending is not None and pending.user_id == user.pk:
        state.clear(request)
    request.session[state.DONE_KEY] = user.username
    return redirect("activation:done")


def _logged_in(request: HttpRequest) -> User | None:
    return cast(User, request.user) if request.user.is_authenticated else None


@never_cache
@require_GET
def done(request: HttpRequest) -> HttpResponse:
    username = request.session.get(state.DONE_KEY)
    if not username:
        return redirect("portal:login")
    login_url = f"{reverse('portal:login')}?{urlencode({'identifiant': username})}"
    return render(request, "activation/done.html", {"username": username, "login_url": login_url})


# --- After login: a newer charter -------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def charter_update(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    document = services.charter_to_accept(request)
    if document is None:
        return HttpResponseRedirect(next_url or reverse("portal:home"))
    if request.method == "POST":
        form = CharterForm(request.POST)
        if form.is_valid():
            services.accept_charter(request, cast(User, request.user), document)
            return HttpResponseRedirect(next_url or reverse("portal:home"))
    else:
        form = CharterForm()
    return render(request, "activation/charter_update.html", {"form": form, "charter": document, "next": next_url})

