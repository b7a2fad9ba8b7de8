"""Seed the demo ENT: one collège from the sample SIECLE/STS exports, and ready logins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cartable.accounts.letters import render_letters
from cartable.accounts.models import Charter, CharterAcceptance, User
from cartable.accounts.services import issue_provisional_credentials
from cartable.directory.models import Etablissement, Guardianship, Person, Source
from cartable.imports.models import ImportRun
from cartable.imports.service import run_import

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
UAI = "0999999X"

# (who, source, id in the sample files, demo password). Demo passwords are public by design:
# never run the demo seed on a real deployment (the command refuses unless DEMO=true).
DEMO_LOGINS = [
    ("Parent (compte activé)", Source.SIECLE_PERSONNE, "990002", "Demo-parent-2026"),
    ("Enseignante", Source.STS, "9159", "Demo-prof-2026"),
    ("Secrétariat (console /console/)", Source.STS, "9158", "Demo-secretariat-2026"),
    ("Élève (compte activé)", Source.SIECLE_ELEVE, "1990038", "Demo-eleve-2026"),
]
# A parent who has only their letter: provisional password, not activated.
PENDING_PARENT = (Source.SIECLE_PERSONNE, "990043")
# A parent without a letter, whose mobile number the school recorded: « Je n'ai pas de compte ».
SELF_REGISTERING_PARENT = (Source.SIECLE_PERSONNE, "990034")


class Command(BaseCommand):
    help = (
        "Crée (ou remet à zéro) l'établissement de démonstration 0999999X à partir des exports "
        "SIECLE/STS d'exemple et affiche des identifiants prêts à l'emploi. Réservé à la démonstration "
        "(DEMO=true) : les mots de passe affichés sont publics."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("seed_demo ne s'exécute qu'avec DEMO=true (mots de passe de démonstration publics).")
        etab, _created = Etablissement.objects.update_or_create(
            uai=UAI,
            defaults={
                "name": "Collège des Exemples Fictifs",
                "kind": Etablissement.Kind.COLLEGE,
                "academie": "Académie fictive",
                "support_contact": "secretariat.0999999x@example.org",
                "ent_url": settings.SITE_URL,
                "current_year": 2026,
            },
        )
        files = [
            SAMPLES / "sts_emp_0999999X_2026.xml",
            SAMPLES / "ElevesSansAdresses.xml",
            SAMPLES / "ResponsablesAvecAdresses.xml",
        ]
        run = run_import(etab, files)
        if run.status != ImportRun.Status.SUCCEEDED:
            raise CommandError(f"L'import des fichiers d'exemple a échoué : {run.report}")

        rows = []
        charter = Charter.current()
        with transaction.atomic():
            for label, source, origin_id, password in DEMO_LOGINS:
                user = self._account(etab, source, origin_id)
                user.set_password(password)
                user.activated_at = user.activated_at or timezone.now()
                user.is_active = True
                user.save()
                if charter is not None:
                    # Activated accounts accepted the charter when they activated.
                    CharterAcceptance.objects.get_or_create(user=user, charter=charter)
                rows.append((label, user.username, password))
            pending = self._account(etab, *PENDING_PARENT)
            [(pending, provisional)] = issue_provisional_credentials([pending], actor=None, reset_activated=True)
        letter = settings.VAR_DIR / "demo-lettre-parent.pdf"
        letter.write_bytes(render_letters([(pending, provisional)]))
        rows.append(("Parent non activé (mot de passe provisoire)", pending.username, provisional))

        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Démonstration prête : {etab.name} ({etab.uai})"))
        out.write(f"  ENT : {settings.SITE_URL}/   console : {settings.SITE_URL}/console/")
        out.write(f"  Boîte d'envoi des courriels : {settings.SITE_URL}/demo/outbox/")
        out.write(f"  Lettre du parent non activé : {letter}")
        out.write("")
        width = max(len(r[0]) for r in rows)
        for label, username, password in rows:
            out.write(f"  {label.ljust(width)}  identifiant : {username:<28} mot de passe : {password}")
        out.write("")
        for line in self._self_registration_hint(etab):
            out.write(line)

    def _self_registration_hint(self, etab: Etablissement) -> list[str]:
        """What to type in « Je n'ai pas de compte » as the sample parent who has no letter."""
        person = Person.objects.filter(
            origin_etablissement=etab, origin_source=SELF_REGISTERING_PARENT[0], origin_id=SELF_REGISTERING_PARENT[1]
        ).first()
        if person is None or not person.mobile:
            return []
        children = [
            f"{link.pupil.first_name} (né·e le {link.pupil.birth_date:%d/%m/%Y})"
            for link in person.child_links.filter(level=Guardianship.Level.LEGAL, pupil__birth_date__isnull=False)
            .select_related("pupil")
            .order_by("pupil__birth_date")
        ]
        local = "0" + person.mobile[3:] if person.mobile.startswith("+33") else person.mobile
        return [
            "  Parent sans lettre, pour « Je n'ai pas de compte » (le code SMS est dans la boîte d'envoi) :",
            f"    nom {person.last_name}, prénom {person.first_name}, portable {local} ; enfant(s) : "
            + (", ".join(children) or "aucun"),
            "",
        ]

    def _account(self, etab: Etablissement, source: str, origin_id: str) -> User:
        user = (
            User.objects.select_related("person")
            .filter(
                person__origin_etablissement=etab, person__origin_source=source, person__origin_id=origin_id
            )
            .first()
        )
        if user is None:
            raise CommandError(f"Compte de démonstration introuvable ({source} {origin_id}).")
        return user
