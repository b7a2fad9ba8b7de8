"""Credential letters: « Mise à disposition de services en ligne », one A4 page per person.

The flow, top to bottom:

1. `letter_recipients()` picks the accounts of an établissement (a class, a profile, identifiers).
2. `issue_letters()` gives them new provisional passwords (`services.issue_provisional_credentials`,
   which writes the audit trail) and renders the PDF in the same transaction, so a rendering error
   leaves the earlier passwords in place instead of passwords nobody ever saw.
3. `render_letters()` draws the pages; `letters_filename()` names the download.

The clear passwords exist only in memory between 2 and 3 and inside the returned PDF: they are
never stored, logged or put in the QR code (which carries only the identifier). Functions that
hold them are marked `sensitive_variables`, so Django's error reports do not print them either.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth import password_validation
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_variables
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepInFrame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from cartable.directory.models import Division, Etablissement, Guardianship, Membership, Profile
from cartable.portal.choice import portal_path_for

from .models import User
from .services import issue_provisional_credentials

TITLE = gettext_lazy("Mise à disposition de services en ligne")
# Path of the portal page that opens the login form with the identifier already typed in.
LOGIN_PATH = "/connexion/identifiant/"
# Children shown on a parent's letter: those the person is responsible for, not mere contacts.
GUARDIAN_LEVELS = (Guardianship.Level.LEGAL, Guardianship.Level.IN_CHARGE)
PUPIL_AND_FAMILY = (Profile.ELEVE, Profile.RESPONSABLE)

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


# --- Small public helpers ---------------------------------------------------------------------


def french_date(day: datetime.date | datetime.datetime) -> str:
    """'23 février 2027', '1er mars 2027' (aware datetimes are read in the site's time zone).

    Written out rather than left to the process locale, which a server or a cron job may not have.
    """
    if isinstance(day, datetime.datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def ent_address(etablissement: Etablissement | None) -> str:
    """The address printed on the letter: the établissement's own ENT URL, else the site's."""
    url = (etablissement.ent_url if etablissement is not None else "") or settings.SITE_URL
    return url.rstrip("/")


def login_url(username: str, etablissement: Etablissement | None = None) -> str:
    """URL of the QR code: the login page with the identifier filled in (never the password)."""
    return f"{ent_address(etablissement)}{LOGIN_PATH}?{urlencode({'identifiant': username})}"


def letters_filename(
    etablissement: Etablissement | None = None, *, label: str = "", now: datetime.datetime | None = None
) -> str:
    """'lettres-0999999X-6a-2026-11-23.pdf': safe for a Content-Disposition header and any disk."""
    day = timezone.localtime(now or timezone.now()).date()
    parts = ["lettres"]
    if etablissement is not None:
        parts.append(etablissement.uai)
    if label and (slug := slugify(label)):
        parts.append(slug)
    parts.append(day.isoformat())
    return "-".join(parts) + ".pdf"


def activation_deadline(user: User, issued_at: datetime.datetime | None = None) -> datetime.datetime:
    """The instant the provisional password stops working (from the account, as the portal reads it)."""
    if user.activation_deadline is not None:
        return user.activation_deadline
    start = issued_at or timezone.now()
    return start + datetime.timedelta(days=settings.ACTIVATION_DEADLINE_DAYS)


# --- Who gets a letter ---------------------------------------------------------------------------


def letter_recipients(
    etablissement: Etablissement,
    *,
    division: Division | None = None,
    profiles: Collection[str] | None = None,
    identifiers: Collection[str] | None = None,
) -> QuerySet[User]:
    """Accounts of people with a current membership in `etablissement`.

    With `division`: the pupils of that class and their legal representatives (only profiles
    élève and responsable make sense there). `profiles` narrows to those profiles; `identifiers`
    to those accounts. Activated accounts are included: `issue_letters` decides whether to skip them.
    """
    current = Membership.objects.current().filter(etablissement=etablissement)
    if division is not None:
        wanted = set(profiles or PUPIL_AND_FAMILY)
        pupils = current.filter(profile=Profile.ELEVE, division=division).values("person_id")
        people = Q(pk__in=[])
        if Profile.ELEVE in wanted:
            people |= Q(person__in=pupils)
        if Profile.RESPONSABLE in wanted:
            guardians = Guardianship.objects.filter(
                etablissement=etablissement, level=Guardianship.Level.LEGAL, pupil__in=pupils
            ).values("guardian_id")
            people |= Q(person__in=guardians)
        users = User.objects.filter(people)
    else:
        if profiles:
            current = current.filter(profile__in=list(profiles))
        users = User.objects.filter(person__in=current.values("person_id"))
    if identifiers is not None:
        users = users.filter(username__in=[i.strip().lower() for i in identifiers])
    return users.select_related("person").order_by("username")


@dataclasses.dataclass(frozen=True)
class LetterBatch:
    """What `issue_letters` did. Holds no password: those are only inside `pdf`."""

    pdf: bytes = dataclasses.field(repr=False)
    printed: list[User]
    skipped_activated: list[User]

    @property
    def summary(self) -> str:
        """French summary for a console message or the command's output."""
        if self.printed:
            text = ngettext(
                "%(count)d lettre imprimée (nouvel identifiant provisoire).",
                "%(count)d lettres imprimées (nouveaux identifiants provisoires).",
                len(self.printed),
            ) % {"count": len(self.printed)}
        else:
            text = _("Aucune lettre imprimée.")
        if self.skipped_activated:
            text += " " + ngettext(
                "%(count)d compte déjà activé ignoré.",
                "%(count)d comptes déjà activés ignorés.",
                len(self.skipped_activated),
            ) % {"count": len(self.skipped_activated)}
        return text


@sensitive_variables()  # every local: the pairs, and the PDF that carries them
def issue_letters(
    users: Iterable[User],
    *,
    actor: User | None,
    reset_activated: bool = False,
    etablissements: Collection[Etablissement] | None = None,
) -> LetterBatch:
    """Issue new provisional credentials to `users` and render their letters (one transaction).

    Printing replaces any earlier provisional password, and the activation deadline starts now.
    Activated accounts are skipped unless `reset_activated`. `etablissements` limits which of a
    person's memberships a letter may show (the staff member's own établissements).
    """
    users = list(users)
    with transaction.atomic():
        # Audit lines go to the staff member's établissement when there is exactly one in scope.
        scope = list(etablissements) if etablissements is not None else []
        pairs = issue_provisional_credentials(
            users, actor=actor, reset_activated=reset_activated, etablissement=scope[0] if len(scope) == 1 else None
        )
        pdf = render_letters(pairs, etablissements=etablissements) if pairs else b""
    printed_ids = {user.pk for user, _password in pairs}
    return LetterBatch(
        pdf=pdf,
        printed=[u for u in users if u.pk in printed_ids],
        skipped_activated=[u for u in users if u.pk not in printed_ids],
    )


# --- What a letter says ----------------------------------------------------------------------


@dataclasses.dataclass
class _Recipient:
    name: str
    etablissement: Etablissement | None
    profiles: list[str]
    division: str = ""
    children: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (first name, class)
    portal_path: tuple[str, str] = ("", "")  # (portal profile, level) to choose at login

    @property
    def is_guardian(self) -> bool:
        return bool(self.children) or Profile.RESPONSABLE.label in self.profiles


def _division_label(division: Division | None) -> str:
    return str(division) if division is not None else ""


def _recipient(user: User, etablissement_ids: set[int] | None) -> _Recipient:
    """The person's membership shown on the letter, and their children in that établissement only."""
    person = user.person
    if person is None:
        return _Recipient(name=user.username, etablissement=None, profiles=[])
    memberships = list(
        person.memberships.current()
        .select_related("etablissement", "division")
        .order_by("etablissement__name", "etablissement_id", "profile")
    )
    if etablissement_ids is not None:
        memberships = [m for m in memberships if m.etablissement_id in etablissement_ids]
    if not memberships:
        return _Recipient(name=person.full_name, etablissement=None, profiles=[])
    etab = memberships[0].etablissement
    here = [m for m in memberships if m.etablissement_id == etab.pk]
    division = next((m.division for m in here if m.profile == Profile.ELEVE and m.division), None)
    # Only this établissement's links, and only pupils still enrolled here: a letter handed out
    # by one school says nothing about another.
    children = []
    links = (
        Guardianship.objects.filter(guardian=person, etablissement=etab, level__in=GUARDIAN_LEVELS)
        .select_related("pupil")
        .order_by("pupil__birth_date", "pupil__first_name")
    )
    for link in links:
        enrolment = (
            Membership.objects.current()
            .filter(person=link.pupil, etablissement=etab, profile=Profile.ELEVE)
            .select_related("division")
            .first()
        )
        if enrolment is not None:
            children.append((link.pupil.first_name, _division_label(enrolment.division)))
    return _Recipient(
        name=f"{person.first_name} {person.display_last_name}".strip(),
        etablissement=etab,
        profiles=[str(m.get_profile_display()) for m in here],
        division=_division_label(division),
        children=children,
        portal_path=portal_path_for(here[0].profile, etab.kind),
    )


def _sort_key(user: User, recipient: _Recipient) -> tuple[str, str, str, str]:
    """Letters come out class by class, so a stack can be handed to each class as printed."""
    klass = recipient.division or (recipient.children[0][1] if recipient.children else "")
    person = user.person
    last = person.display_last_name if person else ""
    first = person.first_name if person else ""
    return (klass or "\uffff", last.casefold(), first.casefold(), user.username)


def _minimum_password_length() -> int | None:
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            return validator.min_length
    return None


# --- Drawing ---------------------------------------------------------------------------------

# DejaVu covers the names met in a school (Polish, Vietnamese, Turkish…); it is on most Linux
# systems. Otherwise reportlab's bundled Vera (Latin-1 and a little more) and Courier.
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"), Path("/usr/share/fonts/dejavu"))
_fonts: dict[str, str] | None = None


def _register_fonts() -> dict[str, str]:
    global _fonts
    if _fonts is not None:
        return _fonts
    for folder in _FONT_DIRS:
        files = {
            "CartableSans": folder / "DejaVuSans.ttf",
            "CartableSans-Bold": folder / "DejaVuSans-Bold.ttf",
            "CartableMono": folder / "DejaVuSansMono-Bold.ttf",
        }
        if all(f.is_file() for f in files.values()):
            for name, path in files.items():
                pdfmetrics.registerFont(TTFont(name, str(path)))
            _fonts = {"regular": "CartableSans", "bold": "CartableSans-Bold", "mono": "CartableMono"}
            return _fonts
    import reportlab

    bundled = Path(os.path.dirname(reportlab.__file__)) / "fonts"
    pdfmetrics.registerFont(TTFont("CartableSans", str(bundled / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("CartableSans-Bold", str(bundled / "VeraBd.ttf")))
    _fonts = {"regular": "CartableSans", "bold": "CartableSans-Bold", "mono": "Courier-Bold"}
    return _fonts


def _kind_of(char: str) -> str:
    if char.isdigit():
        return _("chiffre")
    return _("MAJ.") if char.isupper() else _("min.")


class PasswordBoxes(Flowable):
    """The password in a monospace font, one box per character, with its kind written under it.

    The alphabet already leaves out 0/O, 1/l/I; the « MAJ. / min. / chiffre » line settles the rest
    (c/C, s/S/5, z/Z/2…) for someone typing it from paper. The characters are drawn as one run of
    text, so the password can be selected or extracted as one word.
    """

    def __init__(self, password: str, font: str, label_font: str, size: float = 20) -> None:
        super().__init__()
        self.password = password
        self.font = font
        self.label_font = label_font
        self.size = size
        self.cell = pdfmetrics.stringWidth("M", font, size) + 3.2 * mm
        self.width = self.cell * len(password)
        self.height = size + 7 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        glyph = pdfmetrics.stringWidth("M", self.font, self.size)
        box_bottom = 4.5 * mm
        canvas.setStrokeColor(colors.HexColor("#7a7a7a"))
        canvas.setLineWidth(0.5)
        for index, char in enumerate(self.password):
            x = index * self.cell
            canvas.rect(x + 0.4 * mm, box_bottom, self.cell - 0.8 * mm, self.size + 2.5 * mm)
            canvas.setFont(self.label_font, 5.5)
            canvas.setFillColor(colors.HexColor("#444444"))
            canvas.drawCentredString(x + self.cell / 2, 1.5 * mm, _kind_of(char))
        text = canvas.beginText(self.cell / 2 - glyph / 2, box_bottom + 2.2 * mm)
        text.setFont(self.font, self.size)
        text.setFillColor(colors.black)
        text.setCharSpace(self.cell - glyph)
        text.textOut(self.password)
        canvas.drawText(text)


def _qr_drawing(url: str, size: float) -> Drawing:
    # reportlab's own encoder: already a dependency, and the code stays vector (sharp at any
    # printer resolution); level M survives a creased or slightly stained sheet.
    widget = QrCodeWidget(url, barLevel="M", barBorder=4)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


class _Styles:
    def __init__(self, fonts: dict[str, str]) -> None:
        regular, bold = fonts["regular"], fonts["bold"]
        self.small = ParagraphStyle("small", fontName=regular, fontSize=8.5, leading=11)
        self.small_right = ParagraphStyle("small_right", parent=self.small, alignment=TA_RIGHT)
        self.body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13.5)
        self.strong = ParagraphStyle("strong", parent=self.body, fontName=bold)
        self.head = ParagraphStyle("head", fontName=bold, fontSize=11, leading=14)
        self.title = ParagraphStyle(
            "title", fontName=bold, fontSize=17, leading=21, alignment=TA_CENTER, spaceBefore=4 * mm, spaceAfter=4 * mm
        )
        self.section = ParagraphStyle(
            "section", fontName=bold, fontSize=11.5, leading=15, spaceBefore=3.5 * mm, spaceAfter=1.5 * mm
        )
        self.step = ParagraphStyle("step", parent=self.body, leftIndent=6 * mm, firstLineIndent=-6 * mm, spaceAfter=1)
        self.deadline = ParagraphStyle(
            "deadline", fontName=bold, fontSize=12, leading=16, alignment=TA_CENTER, textColor=colors.HexColor("#9b1c1c")
        )


def _steps(recipient: _Recipient, address: str) -> list[str]:
    profile, level = recipient.portal_path
    if profile and level:
        choose = _("Choisissez le profil « %(profile)s », puis le niveau « %(level)s ».") % {
            "profile": escape(profile),
            "level": escape(level),
        }
    elif profile:
        choose = _("Choisissez le profil « %(profile)s ».") % {"profile": escape(profile)}
    else:
        choose = _("Choisissez votre profil.")
    steps = [
        _("Rendez-vous à l'adresse <b>%(address)s</b> (ou flashez le code ci-dessus).") % {"address": escape(address)},
        _("Cliquez sur « Se connecter »."),
        choose,
        _("Saisissez votre identifiant et votre mot de passe provisoire (en respectant majuscules et minuscules)."),
        _("Lisez et acceptez la charte d'utilisation de l'ENT."),
    ]
    if recipient.is_guardian:
        steps.append(
            ngettext(
                "Confirmez la date de naissance de votre enfant.",
                "Confirmez la date de naissance de chacun de vos enfants.",
                max(len(recipient.children), 1),
            )
        )
    steps.append(
        _(
            "Indiquez votre adresse électronique personnelle et validez-la avec le lien reçu : elle permettra "
            "de retrouver votre identifiant ou votre mot de passe en cas d'oubli."
        )
    )
    minimum = _minimum_password_length()
    if minimum:
        steps.append(
            _("Choisissez votre nouveau mot de passe personnel (%(count)d caractères au moins).") % {"count": minimum}
        )
    else:
        steps.append(_("Choisissez votre nouveau mot de passe personnel."))
    return steps


def _letter(
    user: User,
    password: str,
    recipient: _Recipient,
    *,
    issued_at: datetime.datetime,
    styles: _Styles,
    fonts: dict[str, str],
    width: float,
) -> list[Flowable]:
    etab = recipient.etablissement
    address = ent_address(etab)
    deadline = french_date(activation_deadline(user, issued_at))
    story: list[Flowable] = []

    # Header: who issues the letter, and when.
    if etab is not None:
        left = [Paragraph(escape(etab.name), styles.head), Paragraph(_("UAI : %(uai)s") % {"uai": etab.uai}, styles.small)]
        if etab.address:
            left.append(Paragraph(escape(etab.address), styles.small))
    else:
        left = [Paragraph("Cartable", styles.head)]
    right = Paragraph(_("Document remis le %(date)s") % {"date": french_date(issued_at)}, styles.small_right)
    header = Table([[left, right]], colWidths=[width * 0.55, width * 0.45], hAlign="LEFT")
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [header, Paragraph(escape(str(TITLE)), styles.title)]

    # The recipient. A parent's letter names only their own children, by first name and class.
    who = [Paragraph(_("<b>Destinataire :</b> %(name)s") % {"name": escape(recipient.name)}, styles.body)]
    if recipient.profiles:
        who.append(Paragraph(_("<b>Profil :</b> %(profile)s") % {"profile": escape(", ".join(recipient.profiles))}, styles.body))
    if recipient.division:
        who.append(Paragraph(_("<b>Classe :</b> %(division)s") % {"division": escape(recipient.division)}, styles.body))
    if recipient.children:
        names = ", ".join(f"{first} ({klass})" if klass else first for first, klass in recipient.children)
        label = ngettext("Enfant", "Enfants", len(recipient.children))
        who.append(Paragraph(f"<b>{escape(label)} :</b> {escape(names)}", styles.body))
    story += who

    # The credentials, with the QR code beside them.
    mono = fonts["mono"]
    qr_size = 36 * mm
    credentials = [
        Paragraph(_("Adresse de l'ENT"), styles.small),
        Paragraph(escape(address), styles.strong),
        Spacer(1, 2 * mm),
        Paragraph(_("Identifiant"), styles.small),
        Paragraph(f'<font name="{mono}" size="13">{escape(user.username)}</font>', styles.body),
        Spacer(1, 2.5 * mm),
        Paragraph(_("Mot de passe provisoire"), styles.small),
        Spacer(1, 1 * mm),
        PasswordBoxes(password, mono, fonts["regular"]),
        Paragraph(
            _("Sous chaque caractère : MAJ. = lettre majuscule, min. = lettre minuscule. "
              "Il n'y a jamais de 0 (zéro), de O, de 1 (un), de l ni de I."),
            styles.small,
        ),
    ]
    qr = [
        _qr_drawing(login_url(user.username, etab), qr_size),
        Paragraph(_("Flashez ce code : la page de connexion s'ouvre avec votre identifiant."), styles.small),
    ]
    box = Table([[credentials, qr]], colWidths=[width - qr_size - 10 * mm, qr_size + 10 * mm], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    story += [Spacer(1, 4 * mm), box, Spacer(1, 4 * mm)]
    story.append(Paragraph(_("Compte à activer avant le %(date)s") % {"date": deadline}, styles.deadline))

    story.append(Paragraph(_("Première connexion : activer votre compte"), styles.section))
    for number, step in enumerate(_steps(recipient, address), start=1):
        story.append(Paragraph(f"{number}.&nbsp;&nbsp;{step}", styles.step))

    story.append(Paragraph(_("À savoir"), styles.section))
    rules = [
        _("Sans activation avant le %(date)s, le compte est désactivé ; il est supprimé au bout d'un an. "
          "Il faut alors demander un nouveau courrier à l'établissement.") % {"date": deadline},
        _("Ce courrier remplace tout courrier précédent : un ancien mot de passe provisoire ne fonctionne plus."),
        _("Votre identifiant ne change jamais. Ne communiquez votre mot de passe à personne, "
          "pas même à l'établissement."),
    ]
    for rule in rules:
        story.append(Paragraph(f"•&nbsp;&nbsp;{rule}", styles.step))

    support = etab.support_contact if etab is not None and etab.support_contact else _("le secrétariat de l'établissement")
    story.append(Paragraph(_("En cas de difficulté"), styles.section))
    story.append(Paragraph(_("Contactez : <b>%(contact)s</b>") % {"contact": escape(support)}, styles.body))
    return story


@sensitive_variables()  # every local holds passwords (pairs, letters, story)
def render_letters(
    pairs: Sequence[tuple[User, str]],
    *,
    issued_at: datetime.datetime | None = None,
    etablissements: Collection[Etablissement] | None = None,
) -> bytes:
    """One PDF, one A4 page per (account, clear provisional password) pair.

    `issued_at` is the date printed on the letters (default: now); the deadline comes from each
    account's `credentials_issued_at`, the instant the portal checks, and falls back on
    `issued_at` for an account without one. `etablissements`, when given, limits which of a
    person's memberships may appear (a letter printed by one school shows that school).
    """
    fonts = _register_fonts()
    styles = _Styles(fonts)
    issued_at = issued_at or timezone.now()
    allowed = {e.pk for e in etablissements} if etablissements is not None else None

    buffer = io.BytesIO()
    page_width, page_height = A4
    margin = 16 * mm
    frame = Frame(margin, margin, page_width - 2 * margin, page_height - 2 * margin, id="letter")
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=str(TITLE),
        author="Cartable",
        subject=str(TITLE),
        creator="Cartable",
        pageTemplates=[PageTemplate(id="letter", frames=[frame])],
    )
    letters = [(user, password, _recipient(user, allowed)) for user, password in pairs]
    letters.sort(key=lambda item: _sort_key(item[0], item[2]))
    story: list[Flowable] = []
    for index, (user, password, recipient) in enumerate(letters):
        content = _letter(
            user, password, recipient, issued_at=issued_at, styles=styles, fonts=fonts, width=frame._aW - 12
        )
        # Shrink rather than spill: a letter is always exactly one sheet (a parent with many
        # children gets slightly smaller text, never a second page with the password on it).
        story.append(KeepInFrame(frame._aW - 12, frame._aH - 12, content, mode="shrink"))
        if index < len(letters) - 1:
            story.append(PageBreak())
    doc.build(story)
    return buffer.getvalue()
