"""Views of the self-registration; the order of the steps is told in flow.py, the rules in services.py.

Every step needs a registration in progress in the session (flow.Registration) and the earlier
steps done; a step reached too early sends to the first step not done. Anything that must not
tell whether the names and number are on file ends in `stopped()`: one message, one page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartable.accounts.models import Charter, User
from cartable.accounts.policy import current_policy
from cartable.accounts.tokens import TokenError
from cartable.activation.forms import CharterForm, PasswordForm, policy_data
from cartable.myaccount.services import display_phone
from cartable.portal.services import start_session
from cartable.recovery.forms import CodeForm
from cartable.recovery.services import lifetime_label

from . import flow, services
from .flow import Registration
from .forms import ChildrenForm, IdentityForm, MobileForm

# The one message for every refusal that must not say why (see flow.py).
GENERIC_MESSAGE = gettext_lazy(
    "Nous ne pouvons pas poursuivre votre inscription. Vérifiez les informations saisies ou contactez le "
    "secrétariat de l'établissement de vos enfants : il vérifiera les informations qu'il détient ou vous "
    "remettra des identifiants."
)

STEP_TITLES = {
    "registration:start": gettext_lazy("Vos informations"),
    "registration:mobile": gettext_lazy("Votre numéro de téléphone portable"),
    "registration:code": gettext_lazy("Code reçu par SMS"),
    "registration:children": gettext_lazy("Vos enfants"),
    "registration:charter": gettext_lazy("Charte d'utilisation"),
    "registration:password": gettext_lazy("Votre identifiant et votre mot de passe"),
    "registration:finish": gettext_lazy("Dernière étape"),
}

StepView = Callable[[HttpRequest, Registration], HttpResponse]


def _steps(registration: Registration) -> list[str]:
    steps = ["registration:mobile" if registration.by_franceconnect else "registration:start"]
    steps += ["registration:code", "registration:children"]
    if registration.charter_version is not None:
        steps.append("registration:charter")
    if not registration.by_franceconnect:
        steps.append("registration:password")
    return steps


def _context(registration: Registration, current: str, **extra: object) -> dict[str, object]:
    steps = _steps(registration)
    return {
        "registration": registration,
        "step_number": steps.index(current) + 1 if current in steps else len(steps),
        "step_count": len(steps),
        "step_title": STEP_TITLES[current],
        **extra,
    }


def stopped(request: HttpRequest, *, reported: int = 0) -> HttpResponse:
    """The generic end: the registration is dropped, the person is sent to their établissement."""
    flow.clear(request)
    return render(request, "registration/stopped.html", {"message": GENERIC_MESSAGE, "reported": reported})


def _problem(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "registration/problem.html", {"message": message}, status=status)


def step(name: str) -> Callable[[StepView], Callable[[HttpRequest], HttpResponse]]:
    """A step of the flow: a registration in progress, still valid, with the earlier steps done."""

    def decorator(view: StepView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        @never_cache
        def wrapper(request: HttpRequest) -> HttpResponse:
            registration = flow.load(request)
            if registration is None or registration.expired():
                flow.clear(request)
                return _problem(
                    request,
                    _("Aucune inscription n'est en cours (ou elle a duré trop longtemps). Recommencez depuis le début."),
                )
            steps = _steps(registration) + ["registration:finish"]
            first_missing = registration.next_url()
            if name not in steps or steps.index(name) > steps.index(first_missing):
                return redirect(first_missing)
            return view(request, registration)

        return wrapper

    return decorator


def _accounts(registration: Registration) -> list[User]:
    """The matched accounts still able to register, the one to keep first."""
    users = User.objects.select_related("person").filter(pk__in=registration.user_ids)
    return services.sort_kept_first(u for u in users if services.may_register(u))


# --- 1. Who: names and number (or, with FranceConnect, the number only) ------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    if request.method == "POST":
        form = IdentityForm(request.POST)
        if form.is_valid():
            registration = flow.begin(request, last_name=form.cleaned_data["nom"], first_name=form.cleaned_data["prenom"])
            return _send_first_code(request, registration, form.cleaned_data["portable"])
    else:
        form = IdentityForm()
    return render(request, "registration/start.html", {"form": form, "step_title": STEP_TITLES["registration:start"]})


@step("registration:mobile")
@require_http_methods(["GET", "POST"])
def mobile(request: HttpRequest, registration: Registration) -> HttpResponse:
    if not registration.by_franceconnect:
        return redirect("registration:start")
    if request.method == "POST":
        form = MobileForm(request.POST)
        if form.is_valid():
            return _send_first_code(request, registration, form.cleaned_data["portable"])
    else:
        form = MobileForm()
    claims = registration.external
    name = f"{claims.given_name} {claims.family_name}" if claims else ""
    return render(request, "registration/mobile.html", _context(registration, "registration:mobile", form=form, name=name))


def _send_first_code(request: HttpRequest, registration: Registration, number: str) -> HttpResponse:
    """Match, then send a code or keep a stand-in: the same next page either way."""
    registration.number = number
    registration.code_ok = False
    if services.blocked(request, number) or services.codes_exhausted(registration):
        return stopped(request)
    # Every start counts, matched or not: a block then says nothing about the names or number.
    services.count_failure(request, number)
    registration.user_ids = [user.pk for user in services.matching_accounts(registration)]
    services.send_code(registration)
    flow.save(request, registration)
    return redirect("registration:code")


# --- 2. The code -----------------------------------------------------------------------------


def _code_page(request: HttpRequest, registration: Registration, form: CodeForm, *, expired: bool = False) -> HttpResponse:
    context = _context(
        registration,
        "registration:code",
        form=form,
        number=display_phone(registration.number),
        lifetime=lifetime_label(services.Kind.REGISTRATION_CODE),
        can_resend=not services.codes_exhausted(registration),
        expired=expired,
    )
    return render(request, "registration/code.html", context)


@step("registration:code")
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest, registration: Registration) -> HttpResponse:
    if registration.code_ok:  # typed already (a second click, the back button): go on
        return redirect(registration.next_url())
    if request.method != "POST":
        return _code_page(request, registration, CodeForm())
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _code_page(request, registration, form)
    if services.blocked(request, registration.number):
        return stopped(request)
    try:
        services.check_code(registration, form.cleaned_data["code"])
    except TokenError as error:
        flow.save(request, registration)  # the stand-in's tries
        now_blocked = services.count_failure(request, registration.number)
        if error.code in ("attempts", "used") or now_blocked:
            return stopped(request)
        form.add_error("code", str(error))
        return _code_page(request, registration, form, expired=error.code == "expired")
    registration.code_ok = True
    # The charter step stays counted (the step numbers do not change), but is passed by an
    # account that already accepted the current version.
    current = Charter.current()
    registration.charter_version = current.version if current is not None else None
    registration.charter_accepted = current is not None and services.charter_to_accept(_accounts(registration)) is None
    flow.save(request, registration)
    return redirect("registration:children")


@step("registration:code")
@require_POST
def resend(request: HttpRequest, registration: Registration) -> HttpResponse:
    """A new code (the previous one stops working), within the same limits, matched or not."""
    if services.blocked(request, registration.number) or services.codes_exhausted(registration):
        return stopped(request)
    services.send_code(registration)
    flow.save(request, registration)
    messages.info(
        request,
        _(
            "Si ces informations correspondent à celles connues de l'établissement, un nouveau code vous a été "
            "envoyé par SMS. Le précédent ne fonctionne plus."
        ),
    )
    return redirect("registration:code")


# --- 3. The children -------------------------------------------------------------------------


@step("registration:children")
@require_http_methods(["GET", "POST"])
def children(request: HttpRequest, registration: Registration) -> HttpResponse:
    users = _accounts(registration)
    if not users:
        return stopped(request)
    kept = users[0]
    all_children = services.children_to_confirm(users)
    unchecked = [child for child in all_children if not child.checkable]
    if not any(child.checkable for child in all_children):
        flow.clear(request)
        return _problem(
            request,
            _(
                "Aucun de vos enfants ne peut être confirmé en ligne (l'établissement n'a pas enregistré leur date "
                "de naissance, ou aucun enfant n'est rattaché à vous). Contactez le secrétariat de l'établissement."
            ),
            status=200,
        )
    error = ""
    if request.method == "POST":
        form = ChildrenForm(request.POST, children=all_children)
        if form.is_valid():
            typed = form.typed_dates()
            rejected = form.rejected()
            if not typed:
                # Every link rejected: the reports go to the établissements, no account without a child.
                services.report_links([child.link for child in rejected], reporter=kept, registration=registration)
                return stopped(request, reported=len(rejected))
            check = services.check_birth_dates(request, registration, kept, typed)
            if check.stopped:
                return stopped(request)
            if check.ok:
                services.report_links([child.link for child in rejected], reporter=kept, registration=registration)
                registration.confirmed = list(typed)
                registration.children_ok = True
                return _next(request, registration)
            error = ngettext(
                "Les dates saisies ne correspondent pas à celles que connaît l'établissement. "
                "Vérifiez-les (il vous reste %(count)d essai).",
                "Les dates saisies ne correspondent pas à celles que connaît l'établissement. "
                "Vérifiez-les (il vous reste %(count)d essais).",
                check.remaining,
            ) % {"count": check.remaining}
    else:
        form = ChildrenForm(children=all_children)
    context = _context(registration, "registration:children", form=form, error=error, unchecked=unchecked)
    return render(request, "registration/children.html", context)


def _next(request: HttpRequest, registration: Registration) -> HttpResponse:
    flow.save(request, registration)
    if registration.next_url() == "registration:finish":
        return _finish_with_identity(request, registration)
    return redirect(registration.next_url())


# --- 4. The charter --------------------------------------------------------------------------


@step("registration:charter")
@require_http_methods(["GET", "POST"])
def charter(request: HttpRequest, registration: Registration) -> HttpResponse:
    document = Charter.objects.filter(version=registration.charter_version or 0).first() or Charter.current()
    if document is None:  # withdrawn meanwhile: nothing to accept
        registration.charter_version = None
        return _next(request, registration)
    if request.method == "POST":
        form = CharterForm(request.POST)
        if form.is_valid():
            registration.charter_version, registration.charter_accepted = document.version, True
            return _next(request, registration)
    else:
        form = CharterForm(initial={"accepte": registration.charter_accepted})
    context = _context(registration, "registration:charter", form=form, charter=document)
    return render(request, "registration/charter.html", context)


# --- 5. The password (SMS) or the provider's link (FranceConnect) ------------------------------


@step("registration:password")
@sensitive_post_parameters("mot_de_passe1", "mot_de_passe2")
@sensitive_variables("password_hash")
@require_http_methods(["GET", "POST"])
def password(request: HttpRequest, registration: Registration) -> HttpResponse:
    if registration.by_franceconnect:
        return redirect("registration:finish")
    users = _accounts(registration)
    if not users:
        return stopped(request)
    kept = users[0]
    if request.method == "POST":
        form = PasswordForm(request.POST, user=kept)
        if form.is_valid():
            password_hash = make_password(form.cleaned_data["mot_de_passe1"])
            try:
                user = services.complete(registration, password_hash=password_hash)
            except services.RegistrationRefused as refusal:
                flow.clear(request)
                return _problem(request, str(refusal), status=409)
            flow.clear(request)
            request.session[flow.DONE_KEY] = user.username
            return redirect("registration:done")
    else:
        form = PasswordForm(user=kept)
    policy = current_policy()
    context = _context(
        registration,
        "registration:password",
        form=form,
        policy=policy,
        policy_data=policy_data(policy),
        account_username=kept.username,
        submit_label=_("Activer mon compte"),
    )
    return render(request, "registration/password.html", context)


@step("registration:finish")
@require_http_methods(["GET", "POST"])
def finish(request: HttpRequest, registration: Registration) -> HttpResponse:
    """FranceConnect's last step, when it was not done on the step before (a reload)."""
    if not registration.by_franceconnect:
        return redirect("registration:password")
    if request.method == "POST":
        return _finish_with_identity(request, registration)
    return render(request, "registration/finish.html", _context(registration, "registration:finish"))


def _finish_with_identity(request: HttpRequest, registration: Registration) -> HttpResponse:
    try:
        user = services.complete(registration, password_hash=None)
    except services.RegistrationRefused as refusal:
        flow.clear(request)
        return _problem(request, str(refusal), status=409)
    flow.clear(request)
    user.backend = settings.AUTHENTICATION_BACKENDS[0]  # type: ignore[attr-defined]  # as authenticate() sets it
    start_session(request, user, None)
    messages.success(request, _("Votre compte est activé. Vous pourrez désormais vous connecter avec FranceConnect."))
    return redirect("portal:home")


@never_cache
@require_GET
def done(request: HttpRequest) -> HttpResponse:
    username = request.session.get(flow.DONE_KEY)
    if not username:
        return redirect("portal:login")
    login_url = f"{reverse('portal:login')}?{urlencode({'identifiant': username})}"
    return render(request, "registration/done.html", {"username": username, "login_url": login_url})
