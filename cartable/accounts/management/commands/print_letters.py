"""manage.py print_letters: issue provisional credentials and write the letters to one PDF."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from cartable.accounts.letters import PUPIL_AND_FAMILY, issue_letters, letter_recipients
from cartable.directory.models import Division, Etablissement, Profile
from cartable.directory.uai import normalise_uai


class Command(BaseCommand):
    help = _(
        "Imprime les lettres « Mise à disposition de services en ligne » des comptes d'un "
        "établissement (une page A4 par personne) dans un fichier PDF. Règles : imprimer une lettre "
        "attribue un nouveau mot de passe provisoire, qui remplace tout mot de passe provisoire "
        "précédent ; le délai d'activation commence à l'impression ; les comptes déjà activés sont "
        "ignorés, sauf avec --reset (le compte est alors réinitialisé et doit être réactivé). "
        "Le fichier contient des mots de passe : il est créé lisible par son seul propriétaire."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--uai", required=True, help=_("UAI de l'établissement (ex. 0999999X)."))
        parser.add_argument(
            "--division",
            help=_("Code de la classe (année scolaire en cours) : ses élèves et leurs représentants légaux."),
        )
        parser.add_argument(
            "--profile",
            action="append",
            choices=Profile.values,
            help=_("Ne garder que ce profil (répétable)."),
        )
        parser.add_argument(
            "--identifier",
            nargs="+",
            action="extend",
            metavar="IDENTIFIANT",
            help=_("Ne garder que ces identifiants (ex. claire.exemple)."),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("Réinitialiser aussi les comptes déjà activés (leur mot de passe cesse de fonctionner)."),
        )
        parser.add_argument("--output", required=True, type=Path, help=_("Fichier PDF à écrire."))
        parser.add_argument("--force", action="store_true", help=_("Écraser le fichier s'il existe."))

    def handle(self, *args: Any, **options: Any) -> None:
        uai = normalise_uai(options["uai"])
        etablissement = Etablissement.objects.filter(uai=uai).first()
        if etablissement is None:
            raise CommandError(_("Aucun établissement d'UAI « %(uai)s ».") % {"uai": uai})

        division = None
        if options["division"]:
            division = Division.objects.filter(
                etablissement=etablissement, year=etablissement.current_year, code=options["division"]
            ).first()
            if division is None:
                raise CommandError(
                    _("Aucune classe « %(code)s » en %(year)s dans cet établissement.")
                    % {"code": options["division"], "year": etablissement.current_year_label}
                )
            if options["profile"] and not set(options["profile"]) <= set(PUPIL_AND_FAMILY):
                raise CommandError(_("Avec --division, seuls les profils eleve et responsable ont un sens."))

        output: Path = options["output"]
        if output.exists() and not options["force"]:
            raise CommandError(_("Le fichier %(path)s existe déjà (--force pour l'écraser).") % {"path": output})
        if not output.parent.is_dir():
            raise CommandError(_("Le dossier %(path)s n'existe pas.") % {"path": output.parent})

        identifiers = options["identifier"]
        users = list(
            letter_recipients(
                etablissement, division=division, profiles=options["profile"], identifiers=identifiers
            )
        )
        if identifiers:
            found = {u.username for u in users}
            missing = sorted({i.strip().lower() for i in identifiers} - found)
            if missing:
                raise CommandError(
                    _("Identifiants inconnus dans cette sélection : %(list)s.") % {"list": ", ".join(missing)}
                )
        if not users:
            raise CommandError(_("Aucun compte ne correspond à cette sélection."))

        # One transaction: if the file cannot be written, the accounts keep their earlier
        # provisional passwords rather than new ones printed nowhere.
        with transaction.atomic():
            batch = issue_letters(
                users, actor=None, reset_activated=options["reset"], etablissements=[etablissement]
            )
            if not batch.printed:
                raise CommandError(
                    _(
                        "Aucune lettre imprimée : les %(count)d comptes sélectionnés sont déjà activés "
                        "(--reset pour les réinitialiser)."
                    )
                    % {"count": len(batch.skipped_activated)}
                )
            _write_private(output, batch.pdf)
        self.stdout.write(batch.summary)
        self.stdout.write(
            _("Fichier écrit : %(path)s. Il contient des mots de passe : imprimez-le puis supprimez-le.")
            % {"path": output}
        )


def _write_private(path: Path, data: bytes) -> None:
    """Write the PDF readable by its owner only: it holds clear passwords until printed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # --force on an existing file: O_CREAT's mode does not apply.
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
