"""Link reports filed from Mon compte → Enfants (the registration files its own, see
cartable.registration).

  `report`  /liens/signaler/<id>/  GET: the link and a confirmation form; POST: files the report
                                    and returns to Mon compte → Enfants, which shows its status.
Only the links of the logged-in person (and of the accounts merged into theirs) can be
reported; any other id answers 404, the same as a missing one.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cartable.accounts.models import User
from cartable.activation.decorators import charter_required

from . import services
from .forms import ReportForm
from .models import LinkReport


@login_required
@charter_required
@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    link = services.reportable_links(user).filter(pk=pk).first()
    if link is None:
        raise Http404(_("Ce lien n'existe pas ou ne vous concerne pas."))
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            services.file_report(
                link, reporter=user, source=LinkReport.Source.MYACCOUNT, comment=form.cleaned_data["commentaire"]
            )
            messages.success(
                request,
                _(
                    "Votre signalement a été transmis à %(etablissement)s. Vous verrez ici la réponse de "
                    "l'établissement."
                )
                % {"etablissement": link.etablissement.name},
            )
            return redirect("myaccount:children")
    else:
        form = ReportForm()
    return render(request, "linking/report.html", {"form": form, "link": link, "tab": "children", "show_children": True})
