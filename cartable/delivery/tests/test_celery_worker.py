"""Delivery through a real Celery worker and a real Redis broker (the production setup)."""

import os
import socket
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from cartable import celery_app
from cartable.delivery import services
from cartable.delivery.models import OutgoingEmail, Status

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def celery_worker(settings):
    if not redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings.CELERY_BROKER_URL = REDIS
    old = (celery_app.conf.broker_url, celery_app.conf.result_backend)
    celery_app.conf.broker_url = REDIS
    celery_app.conf.result_backend = None
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    celery_app.conf.broker_url, celery_app.conf.result_backend = old


@pytest.fixture
def email_template(tmp_path, settings):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "w_subject.txt").write_text("Via Celery\n")
    (tmp_path / "t" / "w.txt").write_text("Bonjour\n")
    (tmp_path / "t" / "w.html").write_text("<p>Bonjour</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    return "t/w"


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_after_commit(smtp_server, email_template, celery_worker):
    with transaction.atomic():
        services.queue_email("parent@example.org", email_template, {})
    message = smtp_server.wait_for("parent@example.org", timeout=20)
    assert message["Subject"] == "Via Celery"
    # The worker records the delivery just after the SMTP server accepted the message.
    deadline = time.monotonic() + 10
    while not OutgoingEmail.objects.filter(status=Status.SENT).exists():
        assert time.monotonic() < deadline, "the worker did not record the delivery"
        time.sleep(0.05)
