"""« Regrouper mes comptes » (/regroupement/), for a parent signed in to the account they keep.

The steps (the rules are in services.py), each a plain form that works without JavaScript:
  1. `start`    /regroupement/            the other account's identifier and password (or its
                                          provisional password); checked like a login
  2. `confirm`  /regroupement/confirmer/  the children of both accounts, the identifier kept
                                          (the signed-in one); the current password merges
  3. `done`     /regroupement/termine/    « utilisez désormais l'identifiant X »
Only parents' accounts reach these pages: anyone else gets a page saying so (403).
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from cartable.accounts.models import User
from cartable.accounts.persons import is_responsable
from cartable.activation.decorators import charter_required
from cartable.myaccount.forms import CURRENT
from cartable.myaccount.services import children_of

from . import services
from .forms import ConfirmForm, ProofForm


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required


def _context(**extra: object) -> dict[str, object]:
    # The pages sit among the tabs of "Mon compte" (only parents get here: they have "Enfants").
    return {"tab": "merge", "show_children": True, **extra}


def _not_for_you(request: HttpRequest, user: User) -> HttpResponse | None:
    if user.is_staff or user.is_superuser or not is_responsable(user):
        return render(request, "merging/not_available.html", status=403)
    return None


@login_required
@charter_required
@sensitive_post_parameters("mot_de_passe")
@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    refused = _not_for_you(request, user)
    if refused is not None:
        return refused
    error = ""
    status = 200
    if request.method == "POST":
        services.forget_proof(request)  # a new attempt replaces any earlier proof, failed or not
        form = ProofForm(request.POST)
        if form.is_valid():
            try:
                other = services.prove_control(
                    request, user, form.cleaned_data["identifiant"], form.cleaned_data["mot_de_passe"]
                )
            except services.MergeRefused as refusal:
                error = str(refusal)
                status = 429 if refusal.code == "blocked" else 200  # as the login form answers
            else:
                services.remember_proof(request, user, other)
                return redirect("merging:confirm")
    else:
        form = ProofForm()
    return render(
        request, "merging/start.html", _context(form=form, error=error, account=user), status=status
    )


@login_required
@charter_required
@sensitive_post_parameters(CURRENT)
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    refused = _not_for_you(request, user)
    if refused is not None:
        return refused
    other = services.proven_account(request, user)
    if other is None:
        # No proof, an old one, or the other account's password changed since: start again.
        services.forget_proof(request)
        return redirect("merging:start")
    error = ""
    if request.method == "POST":
        form = ConfirmForm(request, user, request.POST)
        if form.is_valid():
            try:
                services.merge_accounts(user, other, actor=user, via="self_service")
            except services.MergeRefused as refusal:
                services.forget_proof(request)
                error = str(refusal)
            else:
                services.forget_proof(request)
                request.session[services.DONE_KEY] = {"kept": user.username, "absorbed": other.username}
                return redirect("merging:done")
    else:
        form = ConfirmForm(request, user)
    context = _context(
        form=form,
        error=error,
        account=user,
        other=other,
        kept_children=children_of(user),
        other_children=children_of(other),
    )
    return render(request, "merging/confirm.html", context)


@login_required
@never_cache
@require_GET
def done(request: HttpRequest) -> HttpResponse:
    result = request.session.get(services.DONE_KEY)
    if not isinstance(result, dict) or result.get("kept") != _user(request).username:
        return redirect("merging:start")
    return render(
        request,
        "merging/done.html",
        _context(kept=result["kept"], absorbed=result.get("absorbed", ""), children=children_of(_user(request))),
    )
