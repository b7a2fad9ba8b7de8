"""The portal choice: which profile and level a visitor logs in as, and whether to remember it.

Like the académies' portals (seed 002), the visitor first says who they are (profile, then level)
and whether this is their own computer. With Cartable's own accounts the password is the same
whichever profile is chosen, so the choice does not gate the login: it tailors the login page's
help, will route to the right outside identity provider (EduConnect, an académie's) once those
exist, and decides how long the session lives:

- "Mémoriser ce choix : Non" (public computer, the default): nothing is kept on the device; the
  session ends with the browser and after PUBLIC_SESSION_IDLE_SECONDS of inactivity.
- "Oui" (own computer): profile and level are kept in a signed cookie for PORTAL_CHOICE_COOKIE_DAYS
  so the next visit goes straight to the login form, and the session lasts PRIVATE_SESSION_SECONDS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PROFILES: dict[str, StrOrPromise] = {
    "eleve_parent": _("Élève ou parent"),
    "education_nationale": _("Personnel de l'Éducation nationale"),
    "collectivite": _("Personnel de collectivité et invité"),
    "agricole": _("Enseignement agricole"),
}
LEVELS: dict[str, StrOrPromise] = {
    "ecole": _("École"),
    "college": _("Collège"),
    "lycee": _("Lycée"),
}
# No level step for these two profiles:
# - "Enseignement agricole": its établissements are lycées agricoles (Etablissement.level maps
#   them to "lycee"), so asking would offer a single sensible answer.
# - "Personnel de collectivité et invité": a commune's, département's or région's agent and an
#   invited guest are not attached to one school level, and their accounts do not depend on it.
PROFILES_WITHOUT_LEVEL = frozenset({"agricole", "collectivite"})

SESSION_KEY = "cartable.portal.choice"
_COOKIE_SALT = "cartable.portal.choice"


@dataclass(frozen=True)
class PortalChoice:
    profile: str
    level: str = ""  # empty for PROFILES_WITHOUT_LEVEL
    remember: bool = False

    @property
    def profile_label(self) -> str:
        return str(PROFILES[self.profile])

    @property
    def level_label(self) -> str:
        return str(LEVELS[self.level]) if self.level else ""

    @property
    def is_public(self) -> bool:
        return not self.remember

    @classmethod
    def parse(cls, profile: str, level: str = "", remember: bool = False) -> PortalChoice | None:
        """A valid choice, or None (values come from cookies, sessions and query strings)."""
        if profile not in PROFILES:
            return None
        if profile in PROFILES_WITHOUT_LEVEL:
            level = ""
        elif level not in LEVELS:
            return None
        return cls(profile=profile, level=level, remember=remember)


def needs_level(profile: str) -> bool:
    return profile in PROFILES and profile not in PROFILES_WITHOUT_LEVEL


def cookie_name() -> str:
    # Follows the session cookie: over HTTPS both carry the __Host- prefix, which makes the
    # browser refuse them unless they are Secure, host-only and on "/".
    prefix = "__Host-" if settings.SESSION_COOKIE_NAME.startswith("__Host-") else ""
    return f"{prefix}cartable-portail"


def remembered_choice(request: HttpRequest) -> PortalChoice | None:
    """The choice kept by "Mémoriser ce choix : Oui" on this device, if still valid."""
    value = request.get_signed_cookie(
        cookie_name(), default=None, salt=_COOKIE_SALT, max_age=settings.PORTAL_CHOICE_COOKIE_DAYS * 86400
    )
    if not value:
        return None
    profile, _sep, level = value.partition(":")
    return PortalChoice.parse(profile, level, remember=True)


def remember_choice(response: HttpResponse, choice: PortalChoice) -> None:
    response.set_signed_cookie(
        cookie_name(),
        f"{choice.profile}:{choice.level}",
        salt=_COOKIE_SALT,
        max_age=settings.PORTAL_CHOICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def forget_choice(response: HttpResponse) -> None:
    response.delete_cookie(cookie_name(), samesite="Lax")


def session_choice(request: HttpRequest) -> PortalChoice | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    return PortalChoice.parse(data.get("profile", ""), data.get("level", ""), bool(data.get("remember")))


def store_in_session(request: HttpRequest, choice: PortalChoice) -> None:
    request.session[SESSION_KEY] = asdict(choice)


def current_choice(request: HttpRequest) -> PortalChoice | None:
    """The choice made in this session, else the one remembered on this device."""
    return session_choice(request) or remembered_choice(request)



def portal_path_for(directory_profile: str, etablissement_kind: str) -> tuple[str, str]:
    """The (profile, level) labels a person picks on the portal, printed on their letter.

    Pupils and parents use « Élève ou parent », school staff « Personnel de l'Éducation
    nationale », both « Enseignement agricole » in a lycée agricole; collectivité agents and
    guests « Personnel de collectivité et invité ». The level follows the établissement.
    """
    from cartable.directory.models import Etablissement, Profile

    if directory_profile in {Profile.COLLECTIVITE, Profile.INVITE}:
        key = "collectivite"
    elif etablissement_kind == Etablissement.Kind.LYCEE_AGRICOLE:
        key = "agricole"
    elif directory_profile in {Profile.ELEVE, Profile.RESPONSABLE}:
        key = "eleve_parent"
    else:
        key = "education_nationale"
    level = "" if key in PROFILES_WITHOUT_LEVEL else str(LEVELS.get(etablissement_kind, ""))
    return str(PROFILES[key]), level
