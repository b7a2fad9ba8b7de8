import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from cartable.delivery import services
from cartable.delivery.models import OutgoingEmail, OutgoingSMS, Status


@pytest.fixture
def email_template(tmp_path, settings):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "hello_subject.txt").write_text("Bonjour {{ name }}\n")
    (tmp_path / "t" / "hello.txt").write_text("Bonjour {{ name }}, suivez {{ SITE_URL }}/lien/abc\n")
    (tmp_path / "t" / "hello.html").write_text("<p>Bonjour {{ name }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    return "t/hello"


@pytest.mark.django_db(transaction=True)
def test_email_goes_through_real_smtp_after_commit(smtp_server, email_template):
    with transaction.atomic():
        services.queue_email("parent@example.org", email_template, {"name": "Élodie"})
        assert smtp_server.messages == []  # nothing leaves before the commit
    message = smtp_server.wait_for("parent@example.org")
    assert message["Subject"] == "Bonjour Élodie"
    assert smtp_server.link_in(message) == "http://127.0.0.1:8000/lien/abc"
    assert "<p>Bonjour Élodie</p>" in smtp_server.html_of(message)
    assert OutgoingEmail.objects.get().status == Status.SENT


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_sends_nothing(smtp_server, email_template):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.queue_email("parent@example.org", email_template, {"name": "X"})
        raise RuntimeError("the change failed")
    assert OutgoingEmail.objects.count() == 0
    services.deliver_pending()
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_smtp_down_is_retried_then_delivered(settings, email_template, smtp_server):
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    with transaction.atomic():
        services.queue_email("parent@example.org", email_template, {"name": "Y"})
    row = OutgoingEmail.objects.get()
    assert row.status == Status.PENDING and row.attempts == 1 and row.last_error
    settings.EMAIL_PORT = port
    assert services.deliver_pending() == 0  # not due yet: backoff
    OutgoingEmail.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.deliver_pending() == 1
    smtp_server.wait_for("parent@example.org")


@pytest.mark.django_db(transaction=True)
def test_gives_up_after_max_attempts(settings, email_template):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    settings.DELIVERY_MAX_ATTEMPTS = 2
    with transaction.atomic():
        services.queue_email("parent@example.org", email_template, {"name": "Z"})
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    services.deliver_pending()
    assert OutgoingEmail.objects.get().status == Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_sms_gateway_posts_json(settings):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((self.headers.get("Authorization"), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SMS_URL = f"http://api:secret@127.0.0.1:{server.server_port}/send"
    try:
        with transaction.atomic():
            services.queue_sms("+33699001122", "Votre code : 123456")
    finally:
        server.shutdown()
    assert received[0][1] == {"to": "+33699001122", "text": "Votre code : 123456"}
    assert received[0][0].startswith("Basic ")
    assert OutgoingSMS.objects.get().status == Status.SENT


@pytest.mark.django_db(transaction=True)
def test_background_delivery_does_not_hold_the_request(smtp_server, email_template, settings):
    settings.DELIVERY_IN_BACKGROUND = True
    with transaction.atomic():
        services.queue_email("parent@example.org", email_template, {"name": "W"})
    message = smtp_server.wait_for("parent@example.org")
    assert message["Subject"] == "Bonjour W"


@pytest.mark.django_db
def test_prune_keeps_pending_and_recent(settings):
    old = timezone.now() - datetime.timedelta(days=31)
    OutgoingSMS.objects.create(to="+33600000001", text="a", status=Status.SENT, created_at=old)
    OutgoingSMS.objects.create(to="+33600000002", text="b", status=Status.PENDING, created_at=old)
    OutgoingSMS.objects.create(to="+33600000003", text="c", status=Status.SENT)
    assert services.prune() == 1
    assert set(OutgoingSMS.objects.values_list("to", flat=True)) == {"+33600000002", "+33600000003"}
