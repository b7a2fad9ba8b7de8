"""The activation in progress, kept in the session until the final write.

Nothing is written to the account while the person goes through the steps: the session holds
who is activating (the account id and the letter's issue instant, so that a newer letter voids
the flow), when they started, and what each step has gathered. Only hashes are kept: secret
answers are hashed at their step, and the new password never enters the session (it is the last
step, and goes straight into the account or into the e-mailed confirmation).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "cartable.activation"
# Set once the e-mail has been sent / the account activated, for the pages that say so.
SENT_KEY = "cartable.activation.sent"
DONE_KEY = "cartable.activation.done"
# The token of an e-mailed link, moved out of the URL on first use (no leak through Referer).
LINK_KEY = "cartable.activation.link"

# The steps, in order; `steps()` leaves out those that do not apply to this person.
CHARTER = "charter"
BIRTH_DATES = "birth_dates"
EMAIL = "email"
QUESTIONS = "questions"
PASSWORD = "password"  # noqa: S105 - a step name, not a secret


def flow_seconds() -> int:
    """How long a started activation stays usable (it is restarted with the letter's password)."""
    return settings.ACTIVATION_FLOW_SECONDS


@dataclass
class Pending:
    user_id: int
    issued_at: str  # the account's credentials_issued_at (ISO 8601), "" when none
    started_at: float
    reset: bool = False  # came from « Mon compte a été réinitialisé »
    charter_version: int | None = None  # the charter to accept (None: no charter published)
    has_children: bool = False  # a parent: birth dates to check
    charter_accepted: bool = False
    children_checked: bool = False
    email_chosen: bool = False  # an address was given, or declined
    email: str = ""
    answers: list[list[Any]] = field(default_factory=list)  # [[question index, answer hash], …]

    def steps(self) -> list[str]:
        names = []
        if self.charter_version is not None:
            names.append(CHARTER)
        if self.has_children:
            names.append(BIRTH_DATES)
        names.append(EMAIL)
        if not self.email and not settings.ACTIVATION_EMAIL_REQUIRED:
            names.append(QUESTIONS)
        names.append(PASSWORD)
        return names

    def is_done(self, step: str) -> bool:
        return {
            CHARTER: self.charter_accepted,
            BIRTH_DATES: self.children_checked,
            EMAIL: self.email_chosen,
            QUESTIONS: len(self.answers) == 2,
            PASSWORD: False,  # the last step ends the flow
        }[step]

    def next_step(self) -> str:
        return next(step for step in self.steps() if not self.is_done(step))

    def expired(self) -> bool:
        return time.time() - self.started_at > flow_seconds()


def load(request: HttpRequest) -> Pending | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Pending(**data)
    except TypeError:  # a session written by an older version of the flow
        return None


def save(request: HttpRequest, pending: Pending) -> None:
    request.session[SESSION_KEY] = dataclasses.asdict(pending)


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
