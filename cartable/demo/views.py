from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cartable.delivery.models import OutgoingSMS

from .models import OutboxMessage


def outbox(request: HttpRequest) -> HttpResponse:
    """Demo only (DEMO=true): what the ENT would have e-mailed or texted, newest first."""
    return render(
        request,
        "demo/outbox.html",
        {"messages_sent": OutboxMessage.objects.all()[:100], "sms_sent": OutgoingSMS.objects.all()[:100]},
    )
