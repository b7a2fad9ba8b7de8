"""manage.py import_school: import SIECLE / STS-web / CSV exports into one établissement."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from cartable.directory.models import Etablissement
from cartable.directory.uai import normalise_uai, validate_uai
from cartable.imports.errors import ImportRefused, summary_lines
from cartable.imports.models import ImportRun
from cartable.imports.records import Header
from cartable.imports.service import peek, run_import


class Command(BaseCommand):
    help = _(
        "Importe les exports d'un établissement : SIECLE ElevesSansAdresses / ElevesAvecAdresses, "
        "ResponsablesAvecAdresses, STS-web sts_emp_UAI_ANNEE.xml (XML ou zip d'un seul fichier) et le "
        "format CSV de Cartable. Règles : tout ou rien (une erreur et rien n'est enregistré) ; l'UAI des "
        "fichiers doit être celui de l'établissement ; les personnes sont reconnues par leur identifiant "
        "dans la source (ELEVE_ID, PERSONNE_ID, INDIVIDU ID, id CSV), jamais par leur nom ; réimporter les "
        "mêmes fichiers ne change rien ; une personne absente du nouvel export est marquée partie, jamais "
        "supprimée ; seuls les représentants légaux d'un élève présent reçoivent un compte responsable. "
        "--uai est facultatif quand les fichiers le donnent ; --create crée l'établissement d'après "
        "l'export STS-web (ou l'UAI SIECLE) ; --dry-run fait l'essai sans rien enregistrer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", help=_("fichiers à importer (.xml, .zip, .csv)"))
        parser.add_argument("--uai", help=_("UAI de l'établissement (sinon lu dans les fichiers)"))
        parser.add_argument("--create", action="store_true", help=_("créer l'établissement s'il n'existe pas"))
        parser.add_argument("--dry-run", action="store_true", help=_("essai à blanc : rien n'est enregistré"))

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[str] = options["files"]
        headers = self._headers(files)
        uai = normalise_uai(options["uai"] or "") or self._uai_from(headers)
        dry_run = options["dry_run"]
        etablissement = Etablissement.objects.filter(uai=uai).first()
        with transaction.atomic():
            created = False
            if etablissement is None:
                if not options["create"]:
                    raise CommandError(
                        _("Aucun établissement avec l'UAI %(uai)s : ajoutez --create pour le créer.") % {"uai": uai}
                    )
                etablissement = self._create(uai, headers)
                created = True
            with _Progress() as progress:
                run = run_import(etablissement, files, dry_run=dry_run, progress=progress)
            if created and run.status != ImportRun.Status.SUCCEEDED:
                # A refused import or a dry run leaves no établissement behind either.
                transaction.set_rollback(True)
        self._summary(run, etablissement, created)
        if run.status == ImportRun.Status.FAILED:
            errors = run.report.get("errors") or [{"text": _("import refusé")}]
            raise CommandError(
                _("Import refusé, rien n'a été enregistré :") + "\n" + "\n".join(f"  {e['text']}" for e in errors)
            )

    def _headers(self, files: list[str]) -> list[tuple[str, Header | None]]:
        result = []
        for path in files:
            try:
                result.append(peek(path))
            except ImportRefused as exc:
                raise CommandError(_("Fichier refusé : %(text)s") % {"text": exc.text}) from None
        return result

    def _uai_from(self, headers: list[tuple[str, Header | None]]) -> str:
        found = {normalise_uai(h.uai) for _kind, h in headers if h is not None and h.uai}
        if not found:
            raise CommandError(_("Aucun UAI dans les fichiers (CSV) : précisez --uai."))
        if len(found) > 1:
            raise CommandError(
                _("Les fichiers concernent plusieurs établissements (%(uais)s) : importez-les séparément.")
                % {"uais": ", ".join(sorted(found))}
            )
        return found.pop()

    def _create(self, uai: str, headers: list[tuple[str, Header | None]]) -> Etablissement:
        try:
            validate_uai(uai)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        sts = next((h for kind, h in headers if kind == "sts" and h is not None), None)
        any_header = next((h for _kind, h in headers if h is not None), None)
        year = any_header.year if any_header and any_header.year else None
        values: dict[str, Any] = {"uai": uai, "name": _("Établissement %(uai)s") % {"uai": uai}}
        if sts is not None:
            values.update(
                name=(sts.name or values["name"])[:200],
                academie=sts.academie[:100],
                address=sts.address[:300],
                kind=etablissement_kind(sts.sigle, sts.nature),
            )
        if year:
            values["current_year"] = year
        etablissement = Etablissement(**values)
        etablissement.full_clean()
        etablissement.save()
        return etablissement

    def _summary(self, run: ImportRun, etablissement: Etablissement, created: bool) -> None:
        report = run.report
        status = {
            ImportRun.Status.SUCCEEDED: _("Import réussi"),
            ImportRun.Status.DRY_RUN: _("Essai à blanc (rien n'a été enregistré)"),
            ImportRun.Status.FAILED: _("Import refusé"),
        }[ImportRun.Status(run.status)]
        year = report.get("year")
        line = _("%(status)s : %(name)s (%(uai)s)") % {
            "status": status,
            "name": etablissement.name,
            "uai": etablissement.uai,
        }
        if year:
            line += _(", année %(year)s-%(next)s") % {"year": year, "next": year + 1}
        if created and run.status == ImportRun.Status.SUCCEEDED:
            line += _(" — établissement créé")
        self.stdout.write(line)
        if run.status != ImportRun.Status.FAILED:
            for text in summary_lines(report):
                self.stdout.write(f"  {text}")
            self.stdout.write(_("  Durée : %(s)s s") % {"s": report.get("duration_s")})


def etablissement_kind(sigle: str, nature: str) -> str:
    """STS SIGLE / CODE_NATURE -> kind: 1xx école, CLG / 34x collège, LYC, LP… / 30x-33x lycée."""
    sigle = (sigle or "").upper()
    nature = nature or ""
    if "AGRI" in sigle or sigle in ("LEGTA", "LPA", "LPRA"):
        return Etablissement.Kind.LYCEE_AGRICOLE
    if nature.startswith("1") or sigle in ("EPU", "EMPU", "EEPU", "ECOLE", "EMAT"):
        return Etablissement.Kind.ECOLE
    if sigle == "CLG" or nature.startswith("34") or nature.startswith("35"):
        return Etablissement.Kind.COLLEGE
    if sigle.startswith(("LY", "LP", "LG", "LT", "LEG")) or nature.startswith("3"):
        return Etablissement.Kind.LYCEE
    return Etablissement.Kind.COLLEGE


class _Progress:
    """tqdm bars on stderr for run_import's progress callback (one bar per phase)."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.phase = ""

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def __call__(self, step: str, done: int, total: int) -> None:
        reading = step == _("Lecture des fichiers")
        phase = "read" if reading else "write"
        if phase != self.phase:
            if self.bar is not None:
                self.bar.close()
            self.phase = phase
            self.bar = tqdm(
                total=total,
                file=sys.stderr,
                unit="o" if reading else _("étape"),
                unit_scale=reading,
                desc=step,
                leave=False,
                mininterval=0.5,
            )
        assert self.bar is not None
        self.bar.set_description_str(step, refresh=False)
        self.bar.update(done - self.bar.n)
