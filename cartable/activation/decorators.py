"""`charter_required`: the pages of the ENT first ask a logged-in user to accept a newer charter."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from . import services


def charter_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Redirect to the charter page while the current charter is not accepted (one small query)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and services.charter_to_accept(request) is not None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('activation:charter_update')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper
