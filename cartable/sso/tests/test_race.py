"""Two validations of one ticket at the same moment: exactly one succeeds."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from cartable.sso import tickets
from cartable.sso.models import Ticket

from .conftest import SERVICE_URL


@pytest.mark.django_db(transaction=True)
def test_simultaneous_validations_cannot_both_succeed(service, pupil):
    value = tickets.issue_service_ticket(pupil, service, SERVICE_URL, session_key="s")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def validate() -> None:
        barrier.wait()
        try:
            tickets.validate(value, SERVICE_URL, kinds=(Ticket.Kind.SERVICE,))
            outcome = "ok"
        except tickets.CasError as error:
            outcome = error.code
        except Exception as error:  # e.g. "database is locked": a failure, never a second success
            outcome = type(error).__name__
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=validate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1, outcomes
