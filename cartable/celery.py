"""The Celery application: `celery -A cartable worker -B --loglevel=info` (worker + scheduler)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartable.settings")

app = Celery("cartable")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
