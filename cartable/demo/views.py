from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import OutboxMessage


def outbox(request: HttpRequest) -> HttpResponse:
    """Demo only (DEMO=true): what the ENT would have e-mailed, newest first."""
    return render(request, "demo/outbox.html", {"messages_sent": OutboxMessage.objects.all()[:100]})
