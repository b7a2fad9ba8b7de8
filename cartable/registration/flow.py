"""Self-registration (« Je n'ai pas de compte ») and FranceConnect's first use, read top to bottom.

Two ways in, one flow. Nothing is written to an account until the last step; what each step
learns lives in the session (`Registration`, below), which expires after
REGISTRATION_FLOW_SECONDS and with the browser.

  1. who        `views.start`     /inscription/            last name, first name, mobile number
                `begin_with_identity()` (FranceConnect, called by cartable.franceconnect after
                                  the provider authenticated the person: the names come from
                                  its claims) then `views.mobile` /inscription/portable/: the
                                  mobile number only.
     Either way the session is started afresh (key rotated, earlier state dropped), the typed
     number is matched against the responsables on file (services.find_accounts), and a code
     is sent by SMS if it matched, a stand-in is kept if not: the next page is the same.
  2. code       `views.code`      /inscription/code/       the 6-digit code (and « Renvoyer »);
                                  a right code is the proof that the number is theirs.
  3. children   `views.children`  /inscription/enfants/    each child's birth date, or « Je ne suis
                                  pas le représentant légal de cet élève » (a LinkReport).
  4. charter    `views.charter`   /inscription/charte/     the current charter, if not accepted.
  5. password   `views.password`  /inscription/mot-de-passe/  the identifier, a new password typed
                                  twice; the account is activated (services.complete), then
                `views.done`      /inscription/compte-active/  « Compte activé ! ».
     With FranceConnect there is no password: after step 3 (or 4) the account is linked to the
     provider's `sub`, activated if it was not, and the person is logged in.

Whatever goes wrong before the code is right (no match, too many tries, codes exhausted,
throttled), the person sees ONE message advising to contact the établissement
(`views.stopped`): the pages never tell whether the names and number are on file.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from cartable.accounts.models import Charter

SESSION_KEY = "cartable.registration"
DONE_KEY = "cartable.registration.done"  # the identifier shown on « Compte activé ! »
# Session keys another app keeps across our rotation (the OIDC id_token, for FranceConnect's logout).
KEPT_PREFIX = "franceconnect_"

SMS = "sms"
FRANCECONNECT = "franceconnect"


@dataclass(frozen=True)
class ExternalClaims:
    provider: str  # accounts.models.ExternalIdentity.Provider value, e.g. "franceconnect"
    subject: str  # the provider's `sub`
    given_name: str  # FranceConnect: all first names, space-separated
    family_name: str  # birth name, upper case
    birthdate: datetime.date | None
    email: str  # "" when none

    def as_session(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["birthdate"] = self.birthdate.isoformat() if self.birthdate else ""
        return data

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> ExternalClaims:
        birthdate = datetime.date.fromisoformat(data["birthdate"]) if data.get("birthdate") else None
        return cls(**{**data, "birthdate": birthdate})


@dataclass
class Registration:
    """One registration in progress (the session's copy; see the module docstring)."""

    mode: str  # SMS or FRANCECONNECT
    started_at: float
    last_name: str = ""  # as typed (SMS mode)
    first_name: str = ""
    claims: dict[str, Any] = field(default_factory=dict)  # ExternalClaims.as_session() (FranceConnect)
    number: str = ""  # the mobile number typed, E.164; "" until step 1 is done
    # The accounts the names and number matched, the one to keep first. Empty when nothing
    # matched: the flow then goes on with a stand-in code, which no code typed can match.
    user_ids: list[int] = field(default_factory=list)
    codes_sent: int = 0  # codes sent (real or stand-in) in this registration, the first included
    code_at: float = 0.0  # when the last one was sent
    decoy_attempts: int = 0  # wrong tries on the stand-in code (a real code counts its own)
    code_ok: bool = False
    children_ok: bool = False
    confirmed: list[int] = field(default_factory=list)  # pupil person ids whose birth date was right
    charter_version: int | None = None  # the charter to accept (None: nothing to accept)
    charter_accepted: bool = False

    @property
    def by_franceconnect(self) -> bool:
        return self.mode == FRANCECONNECT

    @property
    def external(self) -> ExternalClaims | None:
        return ExternalClaims.from_session(self.claims) if self.claims else None

    def expired(self) -> bool:
        return time.time() - self.started_at > settings.REGISTRATION_FLOW_SECONDS

    def next_url(self) -> str:
        """The first step not done (a step reached too early sends there)."""
        if not self.number:
            return "registration:mobile" if self.by_franceconnect else "registration:start"
        if not self.code_ok:
            return "registration:code"
        if not self.children_ok:
            return "registration:children"
        if self.charter_version is not None and not self.charter_accepted:
            return "registration:charter"
        return "registration:finish" if self.by_franceconnect else "registration:password"


def load(request: HttpRequest) -> Registration | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Registration(**data)
    except TypeError:  # a session written by an older version of the flow
        return None


def save(request: HttpRequest, registration: Registration) -> None:
    request.session[SESSION_KEY] = dataclasses.asdict(registration)


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def fresh_session(request: HttpRequest) -> None:
    """A new session (new key, nothing of the old one) but the FranceConnect keys.

    A session planted in the person's browser beforehand must not let someone else follow or
    finish their registration; `flush()` also drops any half-done activation or login there.
    """
    kept = {key: value for key, value in request.session.items() if key.startswith(KEPT_PREFIX)}
    request.session.flush()
    request.session.update(kept)
    # Nothing of a registration outlives the browser (it may be a shared computer).
    request.session.set_expiry(0)


def _charter_version() -> int | None:
    """The charter step is counted from the start, whoever registers (pages must not differ)."""
    charter = Charter.current()
    return charter.version if charter is not None else None


def begin(request: HttpRequest, *, last_name: str, first_name: str) -> Registration:
    """Start a self-registration by SMS (step 1's form was valid)."""
    fresh_session(request)
    registration = Registration(
        mode=SMS, started_at=time.time(), last_name=last_name, first_name=first_name, charter_version=_charter_version()
    )
    save(request, registration)
    return registration


def begin_with_identity(request: HttpRequest, claims: ExternalClaims) -> HttpResponse:
    """Start the first-use flow for a person the provider authenticated: ask the mobile number next."""
    fresh_session(request)
    registration = Registration(
        mode=FRANCECONNECT, started_at=time.time(), claims=claims.as_session(), charter_version=_charter_version()
    )
    save(request, registration)
    return redirect("registration:mobile")
