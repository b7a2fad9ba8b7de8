"""The school-record import: exports in, directory rows out, all or nothing.

Steps of `run_import`:
1. open every file (zip member, size cap), recognise it by content (XML root, CSV header);
2. parse them all, STS first, then Eleves, then Responsables, checking each file's UAI against
   the établissement as soon as its PARAMETRES are read (a wrong file fails in milliseconds).
   A large Responsables file is parsed by a worker process meanwhile (see _offload);
3. if anything is ambiguous (duplicate ids, malformed XML, a bad CSV line…) refuse the whole import
   (a refusal from the worker arrives during step 4 and rolls the transaction back);
4. otherwise write everything in one transaction: subjects, classes and groups, staff, pupils,
   responsables and links, then accounts for newcomers and console access for the staff;
5. record an ImportRun with the report (also for refusals and dry runs, which roll back).

Persons are keyed on their source id (`origin_*`), never on names or e-mail. Rows are compared as
tuples with what the database holds, loaded once per import: only what changed is written, so a
second import of the same files writes nothing (idempotent) and stays fast.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartable.accounts.identifiers import IdentifierAllocator, lock_identifiers
from cartable.accounts.models import User
from cartable.accounts.services import UNUSABLE_PASSWORD, create_accounts, sync_staff_access
from cartable.directory.models import (
    Division,
    Etablissement,
    Group,
    Guardianship,
    Membership,
    Person,
    Profile,
    Source,
    Subject,
    Teaching,
    school_year_label,
)
from cartable.directory.uai import normalise_uai

from . import worker
from .bulk import (
    allocate_ids,
    barrier,
    delete_ids,
    immediate_constraints,
    insert_rows,
    large_page_cache,
    reserve_ids,
    update_rows,
    write_phase,
)
from .csv_import import CsvData, parse_csv
from .errors import ImportRefused, Report
from .models import ImportRun
from .records import FIELDS, LINK_FIELDS, ElevesData, Header, ResponsablesData, StsData
from .safexml import InputFile, XmlDocument, max_bytes, open_input, sniff
from .siecle import kind_of, parse_eleves, parse_responsables
from .sts import parse_sts

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""progress(step, done, total): first "Lecture des fichiers" in bytes, then one call per writing
step ("Élèves", "Responsables"…) counted in steps, last "Terminé"."""

BATCH = 2000
# (person, profile) -> (division, MEF, function, groups or None when the source does not give them)
Desired = Mapping[tuple[int, str], tuple[int | None, str, str, frozenset[int] | None]]
STAFF_PROFILES = frozenset(
    {Profile.ENSEIGNANT, Profile.DIRECTION, Profile.VIE_SCOLAIRE, Profile.SECRETARIAT, Profile.PERSONNEL}
)
ORDER = {"sts": 0, "eleves": 1, "responsables": 2, "csv": 3}
KIND_NAMES = {
    "sts": gettext_lazy("STS-web (personnels)"),
    "eleves": gettext_lazy("SIECLE élèves"),
    "responsables": gettext_lazy("SIECLE responsables"),
    "csv": gettext_lazy("CSV"),
}


@dataclass
class Parsed:
    year: int
    sts: StsData | None = None
    eleves: ElevesData | None = None
    responsables: ResponsablesData | None = None
    csv: CsvData | None = None
    # A file still being parsed by a worker process: (process, input, kind). See _offload.
    pending: tuple[Any, InputFile, str] | None = None

    def resolve(self, report: Report) -> None:
        """Wait for the worker's file; merge its report; refuse the import if it was refused."""
        if self.pending is None:
            return
        process, inp, kind = self.pending
        started = time.monotonic()
        outcome, data, worker_report = worker.result(process)
        self.pending = None
        report.timings["wait_worker"] = round(time.monotonic() - started, 2)
        report.merge(worker_report)
        if outcome == "refused":
            report.error(data)
        else:
            _store(self, kind, data, inp, report)
        _check_years(report)
        if report.error_count:
            raise _first_error(report)

    def abandon(self) -> None:
        """The import failed elsewhere: stop the worker, its answer is no longer needed."""
        if self.pending is not None:
            process = self.pending[0]
            self.pending = None
            if process.poll() is None:
                process.kill()
            process.wait()


@contextlib.contextmanager
def gc_paused(report: Report | None = None) -> Iterator[None]:
    """Pause Python's cyclic garbage collector during an import.

    An import holds millions of small objects (rows, tuples, dicts) that never form cycles; the
    collector's full passes over that growing heap made a 200,000-pupil import more than twice as
    slow as a 100,000 one. Reference counting still frees everything; one collection runs after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        started = time.monotonic()
        gc.collect()
        if report is not None:
            report.timings["gc_collect"] = round(time.monotonic() - started, 2)


def _write(writer: _Writer, dry_run: bool) -> None:
    with large_page_cache():
        with transaction.atomic():
            with write_phase(background=writer.background):
                writer.write()
                started, cpu = time.monotonic(), time.process_time()
            if dry_run:
                transaction.set_rollback(True)
        # The background writes left (PostgreSQL: the server's work), then COMMIT.
        writer.report.timings["commit"] = round(time.monotonic() - started, 2)
        writer.report.cpu["commit"] = round(time.process_time() - cpu, 2)


def run_import(
    etablissement: Etablissement,
    files: Sequence[Any],
    *,
    actor: User | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportRun:
    """Import SIECLE / STS-web / CSV files into `etablissement`, all or nothing.

    `files` are paths or uploaded files, in any order and mix (one of each kind at most).
    Returns the saved ImportRun: SUCCEEDED, DRY_RUN (everything done then rolled back, so the
    report shows what would change) or FAILED (nothing written; `report["errors"]` says why).
    """
    report = Report()
    started = time.monotonic()
    run = ImportRun(etablissement=etablissement, started_by=actor if actor and actor.pk else None, files=[])
    status = ImportRun.Status.FAILED
    parsed: Parsed | None = None
    try:
        with gc_paused(report):
            parsed = parse_files(etablissement, files, report, progress, run.files)
            writer = _Writer(etablissement, parsed, report, progress)
            _write(writer, dry_run)
        status = ImportRun.Status.DRY_RUN if dry_run else ImportRun.Status.SUCCEEDED
    except ImportRefused as exc:
        if exc.text not in {e["text"] for e in report.errors}:
            report.error(exc)
    except DatabaseError as exc:
        logger.exception("Import into %s failed in the database", etablissement.uai)
        report.error(ImportRefused(_("Erreur de la base de données, rien n'a été importé : %(detail)s") % {"detail": exc}))
    finally:
        if parsed is not None:
            parsed.abandon()
    report_json = report.as_json()
    report_json["dry_run"] = dry_run
    report_json["duration_s"] = round(time.monotonic() - started, 2)
    run.status = status
    run.report = report_json
    run.finished_at = timezone.now()
    run.save()
    return run


# --- 1-3: reading ------------------------------------------------------------------------------


def identify(obj: Any) -> tuple[str, InputFile]:
    """(kind, input) of one file, from its content: 'sts', 'eleves', 'responsables' or 'csv'."""
    inp = open_input(obj)
    if sniff(inp) == "csv":
        return "csv", inp
    with XmlDocument(inp) as doc:
        return kind_of(doc), inp


def parse_files(
    etablissement: Etablissement,
    files: Sequence[Any],
    report: Report,
    progress: ProgressCallback | None = None,
    file_log: list | None = None,
) -> Parsed:
    """Parse and check every file; raise ImportRefused if any is refused (after trying them all)."""
    if not files:
        raise ImportRefused(_("Aucun fichier à importer."))
    identified: list[tuple[str, InputFile]] = []
    for obj in files:
        try:
            identified.append(identify(obj))
        except ImportRefused as exc:
            report.error(exc)
            if file_log is not None:
                file_log.append({"name": exc.file or str(getattr(obj, "name", obj)), "kind": "", "size": None})
    seen: dict[str, InputFile] = {}
    for kind, inp in identified:
        if file_log is not None:
            file_log.append({"name": inp.label, "kind": kind, "size": inp.size})
        if kind in seen:
            report.error(
                ImportRefused(
                    _("Deux fichiers de même sorte (%(kind)s) : « %(first)s » et « %(second)s ». Importez-en un seul.")
                    % {"kind": KIND_NAMES[kind], "first": seen[kind].label, "second": inp.label},
                    file=inp.label,
                )
            )
        else:
            seen[kind] = inp
    # Files refused already: read the others all the same, so that the report lists every
    # problem at once (a wrong UAI excepted: that stops everything at once).
    identified = [(kind, inp) for kind, inp in seen.items()]
    identified.sort(key=lambda item: ORDER[item[0]])

    parsed = Parsed(year=etablissement.current_year)
    total = sum(inp.size or 0 for _kind, inp in identified)
    done = 0

    def hook(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(_("Lecture des fichiers"), min(done, total), total)

    parsed.pending = None if report.error_count else _offload(etablissement, identified)
    try:
        for kind, inp in identified:
            if parsed.pending is not None and inp is parsed.pending[1]:
                continue
            started, cpu = time.monotonic(), time.process_time()
            try:
                data = _parse_one(etablissement, kind, inp, report, hook)
            except ImportRefused as exc:
                if exc.element == "UAJ":
                    raise  # another school's export: no point reading the other files
                report.error(exc)
                continue
            _store(parsed, kind, data, inp, report)
            report.timings[f"parse_{kind}"] = round(time.monotonic() - started, 2)
            report.cpu[f"parse_{kind}"] = round(time.process_time() - cpu, 2)
        _check_years(report)
        if report.error_count:
            raise _first_error(report)
    except BaseException:
        parsed.abandon()
        raise
    years = [item["year"] for item in report.files if item["year"]]
    if years:
        parsed.year = years[0]
    report.year = parsed.year
    return parsed


def _check_years(report: Report) -> None:
    years: dict[int, str] = {}
    for item in report.files:
        if item["year"]:
            years.setdefault(item["year"], item["name"])
    if len(years) > 1:
        report.error(
            ImportRefused(
                _("Les fichiers ne portent pas sur la même année scolaire : %(years)s.")
                % {"years": ", ".join(f"{school_year_label(y)} ({name})" for y, name in sorted(years.items()))}
            )
        )


def _first_error(report: Report) -> ImportRefused:
    first = report.errors[0]
    return ImportRefused(first["message"], file=first["file"], line=first["line"], column=first["column"])


PARSERS = {"sts": parse_sts, "eleves": parse_eleves, "responsables": parse_responsables}

# Parsing is CPU-bound (about 30 MB/s with lxml and our per-row work): a 100,000-pupil import
# spends 6 s on ElevesSansAdresses and 8 s on ResponsablesAvecAdresses. When both come and a
# second core is there, the Responsables file is parsed in a worker process while this one parses
# the others and writes staff and pupils (measured on the bench: 39.6 s -> see bench/README.md).
# Below this size the cost of starting a worker (about a second) is not worth it.
PARALLEL_FROM_BYTES = 16 * 1024 * 1024


def _offload(etablissement: Etablissement, identified: list[tuple[str, InputFile]]):
    """Start parsing the Responsables file in a worker when it comes with a large Eleves file;
    (process, input, kind) or None. This process meanwhile parses the other files and writes
    staff and pupils; the writer collects the responsables when it gets to them."""
    large = {
        kind: inp
        for kind, inp in identified
        if kind in ("eleves", "responsables") and inp.path and (inp.size or 0) >= PARALLEL_FROM_BYTES
    }
    if len(large) < 2 or (os.cpu_count() or 1) < 2:
        return None
    kind, inp = "responsables", large["responsables"]
    assert inp.path is not None
    etab = {"uai": etablissement.uai, "name": etablissement.name, "current_year": etablissement.current_year}
    return worker.start(kind, inp.path, etab, max_bytes()), inp, kind


def _parse_one(etablissement: Etablissement, kind: str, inp: InputFile, report: Report, hook) -> Any:
    if kind == "csv":
        data = parse_csv(inp, report)
        hook(inp.size or 0)
        return data
    with XmlDocument(inp, hook) as doc:
        return PARSERS[kind](doc, report, lambda header: check_header(etablissement, header, inp.label, report))


def _store(parsed: Parsed, kind: str, data: Any, inp: InputFile, report: Report) -> None:
    setattr(parsed, kind, data)
    header = data.header
    report.files.append(
        {"name": inp.label, "kind": kind, "uai": header.uai, "year": header.year, "version": header.version}
    )


def check_header(etablissement: Any, header: Header, label: str, report: Report) -> None:
    """The file must be this établissement's (UAI); another school year is only a warning."""
    uai = normalise_uai(header.uai)
    if not uai:
        raise ImportRefused(
            _("L'UAI de l'établissement (UAJ) est absent du fichier : impossible de vérifier qu'il s'agit du bon établissement."),
            file=label,
            line=header.line,
            element="UAJ",
        )
    if uai != etablissement.uai:
        raise ImportRefused(
            _(
                "Ce fichier est l'export de l'établissement %(file_uai)s, pas de %(name)s (%(uai)s) : "
                "rien n'a été importé. Vérifiez l'établissement choisi ou le fichier."
            )
            % {"file_uai": uai, "name": etablissement.name, "uai": etablissement.uai},
            file=label,
            line=header.line,
            element="UAJ",
        )
    if header.year is None:
        report.warn(
            "no_year",
            _("Année scolaire absente du fichier : l'année en cours de l'établissement est utilisée"),
            label,
        )
    elif header.year != etablissement.current_year:
        report.warn(
            "other_year",
            _("Le fichier ne porte pas sur l'année scolaire en cours de l'établissement"),
            _("%(file)s : %(year)s au lieu de %(current)s")
            % {
                "file": label,
                "year": school_year_label(header.year),
                "current": school_year_label(etablissement.current_year),
            },
        )


class _StopAtHeader(Exception):
    def __init__(self, header: Header) -> None:
        self.header = header


def peek(obj: Any) -> tuple[str, Header | None]:
    """(kind, header) of a file, reading only up to its PARAMETRES (for `import_school --uai`)."""
    kind, inp = identify(obj)
    if kind == "csv":
        return kind, None

    def stop(header: Header) -> None:
        raise _StopAtHeader(header)

    parser = PARSERS[kind]
    with XmlDocument(inp) as doc:
        try:
            parser(doc, Report(), stop)
        except _StopAtHeader as found:
            return kind, found.header
    return kind, None


# --- 4: writing --------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Who was created / updated / departed / returned, per kind, counted once per person."""

    created: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)
    departed: set[int] = field(default_factory=set)
    returned: set[int] = field(default_factory=set)


class _Writer:
    def __init__(
        self, etablissement: Etablissement, parsed: Parsed, report: Report, progress: ProgressCallback | None
    ) -> None:
        self.etab = etablissement
        self.parsed = parsed
        self.year = parsed.year
        self.report = report
        self.progress = progress
        self.now = timezone.now()
        self.tally: dict[str, _Tally] = defaultdict(_Tally)
        # pk -> (first name, last name, usage name) of persons created, in file order
        self.new_people: dict[int, tuple[str, str, str]] = {}
        self.member_pks: dict[int, None] = {}  # persons with a current membership (ordered set)
        self.staff_pks: set[int] = set()
        self.accounted: set[int] = set()  # persons whose account was created by this import
        self._persons_cache: dict[str, dict[str, tuple[int, tuple]]] = {}  # see _existing_persons
        self._links_cache: dict[frozenset[str], dict[tuple[int, int], tuple[int, tuple]]] = {}
        self.with_account: set[int] | None = None
        self.allocator: IdentifierAllocator | None = None
        # Large imports write in a background thread (bulk.write_phase) while this one prepares
        # the next rows: everything the steps would read is loaded first (_load), since a query
        # waits for the pending writes.
        self.expected_persons = _expected_persons(parsed)
        self.background = (
            connection.vendor in BACKGROUND_VENDORS and self.expected_persons >= BACKGROUND_FROM_PERSONS
        )
        self.division_pk: dict[str, int] = {}
        self.group_pk: dict[str, int] = {}
        self.subject_pk: dict[str, int] = {}
        self.pk_of: dict[str, dict[str, int]] = {}  # source -> origin id -> pk

    def write(self) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            (_("Chargement de l'existant"), self._load),
            (_("Matières, classes et groupes"), self._structures),
        ]
        if self.parsed.sts:
            steps.append((_("Personnels"), self._staff))
        if self.parsed.eleves:
            steps.append((_("Élèves"), self._pupils))
        if self.parsed.pending is not None:
            # Staff and pupils get their accounts while the worker still parses the responsables.
            steps.append((_("Comptes"), self._accounts))
        if self.parsed.eleves or self.parsed.responsables or self.parsed.pending is not None:
            steps.append((_("Responsables"), self._responsables))
        if self.parsed.csv:
            steps.append((_("Fichier CSV"), self._csv))
        steps.append((_("Comptes"), self._accounts))
        for i, (label, step) in enumerate(steps):
            if self.progress is not None:
                self.progress(label, i, len(steps))
            started, cpu = time.monotonic(), time.process_time()
            step()
            name = step.__name__.strip("_")
            self.report.timings[name] = round(self.report.timings.get(name, 0) + time.monotonic() - started, 2)
            self.report.cpu[name] = round(self.report.cpu.get(name, 0) + time.process_time() - cpu, 2)
        # The background writes left (on PostgreSQL, mostly the server's work), then console access.
        for name, finish in (("finish_writes", barrier), ("staff_access", self._staff_access)):
            started, cpu = time.monotonic(), time.process_time()
            finish()
            self.report.timings[name] = round(time.monotonic() - started, 2)
            self.report.cpu[name] = round(time.process_time() - cpu, 2)
        if self.progress is not None:
            self.progress(_("Terminé"), len(steps), len(steps))
        for kind, tally in self.tally.items():
            self.report.add("created", kind, len(tally.created))
            self.report.add("updated", kind, len(tally.updated - tally.created - tally.returned - tally.departed))
            self.report.add("departed", kind, len(tally.departed))
            self.report.add("returned", kind, len(tally.returned))

    def _staff_access(self) -> None:
        if self.staff_pks:
            sync_staff_access(self.staff_pks)

    # --- loading ---------------------------------------------------------------------------
    def _load(self) -> None:
        immediate_constraints()
        if self.background:
            self._preload()
        self.memberships: dict[tuple[int, str], list] = {}
        rows = Membership.objects.filter(etablissement=self.etab).values_list(
            "id", "person_id", "profile", "division_id", "mef_code", "function", "departed_at", "person__origin_source"
        )
        for mid, pid, profile, division, mef, function, departed, source in rows.iterator(chunk_size=10000):
            self.memberships[(pid, profile)] = [mid, division, mef, function, departed, source]
        self.membership_groups: dict[int, set[int]] = defaultdict(set)
        through = Membership.groups.through.objects.filter(membership__etablissement=self.etab)
        for mid, gid in through.values_list("membership_id", "group_id").iterator(chunk_size=10000):
            self.membership_groups[mid].add(gid)

    def _preload(self) -> None:
        """Everything the steps will read, read now, before the first write; ids set aside."""
        parsed = self.parsed
        sources = []
        if parsed.sts:
            sources.append(Source.STS)
        if parsed.eleves:
            sources.append(Source.SIECLE_ELEVE)
        if parsed.eleves or parsed.responsables or parsed.pending is not None:
            sources.append(Source.SIECLE_PERSONNE)
            self._links_cache[frozenset({Source.SIECLE_PERSONNE})] = self._existing_links({Source.SIECLE_PERSONNE})
        if parsed.csv:
            sources.append(Source.CSV)
            self._links_cache[frozenset({Source.CSV})] = self._existing_links({Source.CSV})
        for source in sources:
            self._existing_persons(source)
        self.with_account = set(
            User.objects.filter(person__origin_etablissement=self.etab).values_list("person_id", flat=True)
        )
        # One allocator for the whole import, made under the lock (held until COMMIT).
        lock_identifiers()
        self.allocator = IdentifierAllocator(preload_all=True)
        new_persons = self.expected_persons - sum(len(cache) for cache in self._persons_cache.values())
        reserve_ids(Person, max(new_persons, 0))
        reserve_ids(Membership, self.expected_persons)

    def _existing_persons(self, source: str) -> dict[str, tuple[int, tuple]]:
        """origin id -> (pk, values) of the persons of `source` (loaded once per import)."""
        if source in self._persons_cache:
            return self._persons_cache[source]
        fields = FIELDS[source]
        rows = Person.objects.filter(origin_etablissement=self.etab, origin_source=source).values_list(
            "pk", "origin_id", *fields
        )
        result = self._persons_cache[source] = {row[1]: (row[0], row[2:]) for row in rows.iterator(chunk_size=10000)}
        return result

    # --- generic synchronisers -------------------------------------------------------------
    def _persons(
        self, source: str, rows: Iterable[tuple[str, tuple]], creatable: Callable[[str], bool]
    ) -> tuple[dict[str, int], set[int], set[int]]:
        """Create or update persons of `source`; return (origin id -> pk for all of them, pks
        created, pks updated)."""
        fields = FIELDS[source]
        existing = self._existing_persons(source)
        new: list[tuple] = []
        updates: list[tuple] = []
        now = self.now
        for origin_id, values in rows:
            current = existing.get(origin_id)
            if current is None:
                if creatable(origin_id):
                    new.append((origin_id, values))
            elif current[1] != values:
                updates.append((*values, now, current[0]))
        etab_id = self.etab.pk
        ids = allocate_ids(Person, len(new))
        insert_rows(
            Person,
            ("id", "origin_etablissement", "origin_source", "origin_id", *fields),
            ((pk, etab_id, source, origin_id, *values) for pk, (origin_id, values) in zip(ids, new, strict=True)),
        )
        update_rows(Person, (*fields, "updated_at"), updates)
        pk_of = {origin_id: pk for origin_id, (pk, _values) in existing.items()}
        # Names of newcomers, in file order: identifiers are allocated in that order.
        first, last, usage = (fields.index(f) for f in ("first_name", "last_name", "usage_name"))
        for pk, (origin_id, values) in zip(ids, new, strict=True):
            pk_of[origin_id] = pk
            self.new_people[pk] = (values[first], values[last], values[usage])
        self.pk_of[source] = pk_of
        self._persons_cache.pop(source, None)  # written: stale from now on
        return pk_of, set(ids), {row[-1] for row in updates}

    def _tally_persons(self, kind: str, created: set[int], updated: set[int]) -> None:
        self.tally[kind].created.update(created)
        self.tally[kind].updated.update(updated)

    def _memberships(
        self,
        kind: str,
        source: str,
        desired: Desired,
        in_scope: Callable[[int, str, str], bool],
    ) -> None:
        """Make the memberships in scope match `desired` ((person, profile) -> division, MEF,
        function, groups or None when not managed). Memberships in scope but not desired are
        marked departed (never deleted); departed ones desired again come back."""
        tally = self.tally[kind]
        creates: list[tuple] = []
        create_groups: dict[tuple[int, str], frozenset[int]] = {}
        updates: list[tuple] = []
        group_adds: list[tuple[int, int]] = []
        group_resets: list[int] = []  # memberships whose groups are rewritten (a new year changes them all)
        etab_id = self.etab.pk
        for key, (division, mef, function, groups) in desired.items():
            current = self.memberships.get(key)
            pid = key[0]
            self.member_pks[pid] = None
            if current is None:
                creates.append((pid, etab_id, key[1], division, mef, function))
                if groups:
                    create_groups[key] = groups
                if pid not in tally.created:
                    tally.updated.add(pid)
                continue
            mid = current[0]
            changed = current[1] != division or current[2] != mef or current[3] != function
            if current[4] is not None:
                tally.returned.add(pid)
                changed = True
            if changed:
                updates.append((division, mef, function, None, mid))
                current[1:5] = [division, mef, function, None]
                tally.updated.add(pid)
            if groups is not None:
                have = self.membership_groups.get(mid, set())
                if have != groups:
                    if have - groups:
                        group_resets.append(mid)
                        group_adds.extend((mid, g) for g in groups)
                    else:
                        group_adds.extend((mid, g) for g in groups - have)
                    self.membership_groups[mid] = set(groups)
                    tally.updated.add(pid)
        departing: list[tuple] = []
        departing_people: set[int] = set()
        for key, current in self.memberships.items():
            if current[4] is None and key not in desired and in_scope(key[0], key[1], current[5]):
                departing.append((self.now, current[0]))
                departing_people.add(key[0])
                current[4] = self.now
        still_member = {pid for pid, _profile in desired}
        if kind == "staff":
            self.staff_pks.update(departing_people)  # a departed secretary loses console access
        tally.departed.update(departing_people - still_member)
        tally.updated.update(departing_people & still_member)

        ids = allocate_ids(Membership, len(creates))
        insert_rows(
            Membership,
            ("id", "person", "etablissement", "profile", "division", "mef_code", "function"),
            ((mid, *row) for mid, row in zip(ids, creates, strict=True)),
        )
        for mid, (pid, _etab, profile, division, mef, function) in zip(ids, creates, strict=True):
            key = (pid, profile)
            self.memberships[key] = [mid, division, mef, function, None, source]
            groups = create_groups.get(key)
            if groups:
                group_adds.extend((mid, g) for g in groups)
                self.membership_groups[mid] = set(groups)
        update_rows(Membership, ("division", "mef_code", "function", "departed_at"), updates)
        update_rows(Membership, ("departed_at",), departing)
        through = Membership.groups.through
        delete_ids(through, group_resets, column="membership_id")
        insert_rows(through, ("membership", "group"), group_adds)

    def _existing_links(self, sources: set[str]) -> dict[tuple[int, int], tuple[int, tuple]]:
        """(pupil, guardian) -> (pk, LINK_FIELDS values) of the links whose guardian comes from
        `sources` (preloaded by _load in the background mode, to read before any write)."""
        key = frozenset(sources)
        if key in self._links_cache:
            return self._links_cache.pop(key)
        existing: dict[tuple[int, int], tuple[int, tuple]] = {}
        # The guardian's source is filtered here rather than in SQL: with both conditions,
        # PostgreSQL's statistics right after a large import (not yet analysed) led it to
        # intersect the établissement's whole link index once per guardian (24 s for 20,000
        # pupils re-imported at once); this query's plan stays linear whatever the statistics.
        rows = Guardianship.objects.filter(etablissement=self.etab).values_list(
            "id", "pupil_id", "guardian_id", "guardian__origin_source", *LINK_FIELDS
        )
        for row in rows.iterator(chunk_size=10000):
            if row[3] in sources:
                existing[(row[1], row[2])] = (row[0], row[4:])
        return existing

    def _guardianships(self, sources: set[str], desired: dict[tuple[int, int], tuple]) -> None:
        """Links whose guardian comes from `sources` match `desired` ((pupil, guardian) -> values);
        links no longer in the export are deleted (the link itself, never the persons)."""
        existing = self._existing_links(sources)
        creates, updates = [], []
        etab_id = self.etab.pk
        for (pupil, guardian), values in desired.items():
            current = existing.get((pupil, guardian))
            if current is None:
                creates.append((pupil, guardian, etab_id, *values))
            elif current[1] != values:
                updates.append((*values, current[0]))
        gone = [pk for key, (pk, _values) in existing.items() if key not in desired]
        insert_rows(Guardianship, ("pupil", "guardian", "etablissement", *LINK_FIELDS), creates)
        update_rows(Guardianship, LINK_FIELDS, updates)
        delete_ids(Guardianship, gone)
        self.report.add("created", "links", len(creates))
        self.report.add("updated", "links", len(updates))
        self.report.add("departed", "links", len(gone))

    def _teachings(self, source: str, desired: set[tuple[int, int | None, int | None, int | None]]) -> set[int]:
        """Teachings of teachers from `source` match `desired`; returns the teachers whose changed."""
        existing = {
            (t, d, g, s): pk
            for pk, t, d, g, s in Teaching.objects.filter(
                etablissement=self.etab, teacher__origin_source=source
            ).values_list("pk", "teacher_id", "division_id", "group_id", "subject_id")
        }
        creates = [(t, self.etab.pk, d, g, s) for (t, d, g, s) in sorted(desired, key=str) if (t, d, g, s) not in existing]
        gone = [pk for key, pk in existing.items() if key not in desired]
        insert_rows(Teaching, ("teacher", "etablissement", "division", "group", "subject"), creates)
        delete_ids(Teaching, gone)
        return {row[0] for row in creates} | {key[0] for key in existing if key not in desired}

    # --- structures --------------------------------------------------------------------------
    def _structures(self) -> None:
        sts, eleves, csv_data = self.parsed.sts, self.parsed.eleves, self.parsed.csv
        if sts:
            self._subjects(sts)
        # code -> (label, MEF) when the source knows them, None when it only names the code.
        divisions: dict[str, tuple[str, str] | None] = {}
        groups: dict[str, tuple[str, str] | None] = {}
        if eleves:
            for row in eleves.pupils.values():
                if row.active:
                    divisions.setdefault(row.division, None)
                    for code in row.groups:
                        groups.setdefault(code, None)
        if csv_data:
            for person in csv_data.persons.values():
                for codes in person.profiles.values():
                    for code in codes:
                        divisions.setdefault(code, None)
        if sts:
            for code, structure in sts.divisions.items():
                divisions[code] = (structure.label, structure.mef_code)
            for code, structure in sts.groups.items():
                groups[code] = (structure.label, "")
                for division in structure.divisions:
                    divisions.setdefault(division, None)
        self.division_pk = self._sync_structures(Division, divisions, with_mef=True)
        self.group_pk = self._sync_structures(Group, groups, with_mef=False)
        if sts:
            self._group_divisions(sts)

    def _subjects(self, sts: StsData) -> None:
        existing = {code: (pk, short, label) for pk, code, short, label in
                    Subject.objects.values_list("pk", "code", "short_code", "label")}
        creates, updates = [], []
        for code, (short, label) in sts.subjects.items():
            current = existing.get(code)
            if current is None:
                creates.append(Subject(code=code, short_code=short, label=label))
            elif current[1:] != (short, label):
                updates.append(Subject(pk=current[0], short_code=short, label=label))
        Subject.objects.bulk_create(creates, batch_size=BATCH)
        if updates:
            Subject.objects.bulk_update(updates, ["short_code", "label"], batch_size=BATCH)
        self.subject_pk = {code: pk for code, (pk, *_rest) in existing.items()}
        self.subject_pk.update((s.code, s.pk) for s in creates)

    def _sync_structures(self, model: Any, wanted: dict[str, tuple[str, str] | None], *, with_mef: bool) -> dict[str, int]:
        fields = ["label", "mef_code"] if with_mef else ["label"]
        existing = {
            row[1]: row
            for row in model.objects.filter(etablissement=self.etab, year=self.year).values_list("pk", "code", *fields)
        }
        creates: list[tuple[str, tuple]] = []
        updates: list[tuple] = []
        for code, known in wanted.items():
            current = existing.get(code)
            values = tuple((known or ("", ""))[: len(fields)])
            if current is None:
                creates.append((code, values))
            elif known is not None and tuple(current[2:]) != values:
                updates.append((*values, current[0]))
        ids = allocate_ids(model, len(creates))
        insert_rows(
            model,
            ("id", "etablissement", "year", "code", *fields),
            [(pk, self.etab.pk, self.year, code, *values) for pk, (code, values) in zip(ids, creates, strict=True)],
        )
        update_rows(model, fields, updates)
        self.report.add("created", "classes", len(creates))
        self.report.add("updated", "classes", len(updates))
        pks = {code: row[0] for code, row in existing.items()}
        pks.update((code, pk) for pk, (code, _values) in zip(ids, creates, strict=True))
        return pks

    def _group_divisions(self, sts: StsData) -> None:
        through = Group.divisions.through
        group_ids = {self.group_pk[code] for code in sts.groups}
        existing = set(through.objects.filter(group_id__in=group_ids).values_list("group_id", "division_id"))
        wanted = {
            (self.group_pk[code], self.division_pk[division])
            for code, row in sts.groups.items()
            for division in row.divisions
        }
        insert_rows(through, ("group", "division"), sorted(wanted - existing))
        for g, d in existing - wanted:
            through.objects.filter(group_id=g, division_id=d).delete()

    # --- staff (STS) ---------------------------------------------------------------------------
    def _staff(self) -> None:
        sts = self.parsed.sts
        assert sts is not None
        pk_of, created, updated = self._persons(
            Source.STS, ((i, row.values) for i, row in sts.staff.items()), creatable=lambda _i: True
        )
        self._tally_persons("staff", created, updated)
        desired = {(pk_of[i], row.profile): (None, "", row.function, None) for i, row in sts.staff.items()}
        protected = {pk_of[i] for i in sts.rejected_ids if i in pk_of}
        self._memberships(
            "staff",
            Source.STS,
            desired,
            lambda pid, profile, source: source == Source.STS and profile in STAFF_PROFILES and pid not in protected,
        )
        self.staff_pks.update(pk_of.values())

        teachings: set[tuple[int, int | None, int | None, int | None]] = set()
        for teacher_id, kind, code, subject_code in sorted(sts.services):
            teacher = pk_of.get(teacher_id)
            if teacher is None or teacher_id not in sts.staff:
                self.report.warn(
                    "unknown_teacher",
                    _("Services attribués à un ENSEIGNANT absent des INDIVIDUS (ignorés)"),
                    f"{kind} {code} : ENSEIGNANT ID {teacher_id}",
                )
                continue
            subject = self.subject_pk.get(subject_code)
            if subject_code and subject is None:
                self.report.warn(
                    "unknown_subject",
                    _("Matières de service absentes de la nomenclature (service importé sans matière)"),
                    f"CODE_MATIERE {subject_code}",
                )
            if kind == "D":
                teachings.add((teacher, self.division_pk[code], None, subject))
            else:
                group = self.group_pk[code]
                divisions = sts.groups[code].divisions
                if not divisions:
                    teachings.add((teacher, None, group, subject))
                for division in divisions:
                    teachings.add((teacher, self.division_pk[division], group, subject))
        changed = self._teachings(Source.STS, teachings)
        self.tally["staff"].updated.update(changed)
        self._main_teachers(sts, pk_of)

    def _main_teachers(self, sts: StsData, pk_of: dict[str, int]) -> None:
        through = Division.main_teachers.through
        wanted: set[tuple[int, int]] = set()
        for code, teachers in sts.main_teachers.items():
            division = self.division_pk.get(code)
            if division is None:
                self.report.warn(
                    "unknown_pp_division",
                    _("Professeurs principaux d'une division inconnue (ignorés)"),
                    f"CODE_STRUCTURE {code}",
                )
                continue
            wanted.update((division, pk_of[t]) for t in teachers if t in pk_of)
        existing = set(
            through.objects.filter(
                division__etablissement=self.etab, division__year=self.year, person__origin_source=Source.STS
            ).values_list("division_id", "person_id")
        )
        insert_rows(through, ("division", "person"), sorted(wanted - existing))
        for d, p in existing - wanted:
            through.objects.filter(division_id=d, person_id=p).delete()
        self.tally["staff"].updated.update(p for _d, p in wanted ^ existing)

    # --- pupils (SIECLE) -----------------------------------------------------------------------
    def _pupils(self) -> None:
        eleves = self.parsed.eleves
        assert eleves is not None
        existing_ids = self._existing_persons(Source.SIECLE_ELEVE)
        unplaced, left = 0, 0
        for eleve_id, row in eleves.pupils.items():
            if row.active or eleve_id in existing_ids:
                continue
            if row.placed:
                left += 1
                self.report.add("ignored", "pupils")
            else:
                unplaced += 1
                self.report.add("ignored", "pupils")
                self.report.warn(
                    "unplaced",
                    _("Élèves non placés dans une classe (pas de STRUCTURES_ELEVE) : non importés"),
                    f"ELEVE_ID {eleve_id} (ligne {row.line})",
                )
        if left:
            self.report.warn("left", _("Élèves sortis (DATE_SORTIE passée) : non importés"), str(left))
        pk_of, created, updated = self._persons(
            Source.SIECLE_ELEVE,
            ((i, row.values) for i, row in eleves.pupils.items()),
            creatable=lambda i: eleves.pupils[i].active,
        )
        self._tally_persons("pupils", created, updated)
        desired: dict[tuple[int, str], tuple[int | None, str, str, frozenset[int] | None]] = {}
        for eleve_id, row in eleves.pupils.items():
            if row.active:
                groups = frozenset(self.group_pk[g] for g in row.groups)
                desired[(pk_of[eleve_id], Profile.ELEVE)] = (self.division_pk[row.division], row.mef_code, "", groups)
        protected = {pk_of[i] for i in eleves.rejected_ids if i in pk_of}
        self._memberships(
            "pupils",
            Source.SIECLE_ELEVE,
            desired,
            lambda pid, profile, source: source == Source.SIECLE_ELEVE and profile == Profile.ELEVE
            and pid not in protected,
        )
        self.active_pupils = {pid for pid, _profile in desired}
        self.parsed.eleves = None  # done with: free the rows before the responsables arrive

    # --- responsables (SIECLE) -------------------------------------------------------------------
    def _responsables(self) -> None:
        self.parsed.resolve(self.report)
        resp = self.parsed.responsables
        pupil_pk = self.pk_of.get(Source.SIECLE_ELEVE)
        if pupil_pk is None:
            pupil_pk = dict(
                Person.objects.filter(origin_etablissement=self.etab, origin_source=Source.SIECLE_ELEVE).values_list(
                    "origin_id", "pk"
                )
            )
        active = getattr(self, "active_pupils", None)
        if active is None:
            active = {
                pid
                for (pid, profile), m in self.memberships.items()
                if profile == Profile.ELEVE and m[4] is None and m[5] == Source.SIECLE_ELEVE
            }
        if resp is None:
            # Eleves alone: links come from the database; recompute who is still a legal representative.
            legal: set[int] = set()
            rows = Guardianship.objects.filter(
                etablissement=self.etab, guardian__origin_source=Source.SIECLE_PERSONNE, level=Guardianship.Level.LEGAL
            ).values_list("pupil_id", "guardian_id")
            for pupil, guardian in rows.iterator(chunk_size=10000):
                if pupil in active:
                    legal.add(guardian)
            self._responsable_memberships(legal, protected=set())
            return

        # Links and persons are unpacked by position: from a worker they come as plain tuples
        # (unpickling a named tuple per row costs a second on a large file).
        with_active_child: set[str] = set()
        unknown_pupil = 0
        for eleve_id, personne_id, *_rest in resp.links:
            child = pupil_pk.get(eleve_id)
            if child is None:
                unknown_pupil += 1
            elif child in active:
                with_active_child.add(personne_id)
        existing_ids = self._existing_persons(Source.SIECLE_PERSONNE)
        ignored = [i for i in resp.persons if i not in with_active_child and i not in existing_ids]
        if ignored:
            self.report.add("ignored", "responsables", len(ignored))
            self.report.warn(
                "no_active_child",
                _("Personnes sans enfant scolarisé dans l'établissement (non importées)"),
                str(len(ignored)),
            )
        pk_of, created, updated = self._persons(
            Source.SIECLE_PERSONNE,
            ((i, row[2]) for i, row in resp.persons.items()),
            creatable=with_active_child.__contains__,
        )
        self._tally_persons("responsables", created, updated)
        desired_links: dict[tuple[int, int], tuple] = {}
        legal = set()
        unknown_person = 0
        for eleve_id, personne_id, line, *values in resp.links:
            known_pupil = pupil_pk.get(eleve_id)
            guardian_pk = pk_of.get(personne_id)
            if known_pupil is None:
                continue
            if guardian_pk is None:
                if personne_id not in resp.persons and personne_id not in resp.rejected_ids:
                    unknown_person += 1
                    self.report.reject(
                        "links",
                        "unknown_person",
                        _("Liens vers une PERSONNE_ID absente de la liste PERSONNES"),
                        f"ligne {line} : PERSONNE_ID {personne_id}",
                    )
                continue
            desired_links[(known_pupil, guardian_pk)] = tuple(values)  # LINK_FIELDS, level first
            if values[0] == Guardianship.Level.LEGAL and known_pupil in active:
                legal.add(guardian_pk)
        if unknown_pupil:
            self.report.add("ignored", "links", unknown_pupil)
            self.report.warn(
                "link_unknown_pupil",
                _("Liens vers des élèves absents de l'établissement (anciens élèves, non placés) : ignorés"),
                str(unknown_pupil),
            )
        protected = {pk_of[i] for i in resp.rejected_ids if i in pk_of}
        self.parsed.responsables = resp = None  # done with: free the rows
        self._guardianships({Source.SIECLE_PERSONNE}, desired_links)
        self._responsable_memberships(legal, protected)

    def _responsable_memberships(self, legal: set[int], protected: set[int]) -> None:
        """Legal representatives of an active pupil are members (and get an account); others
        (contacts, parents whose children all left) are not, or no longer."""
        desired: Desired = {(pid, str(Profile.RESPONSABLE)): (None, "", "", None) for pid in legal}
        self._memberships(
            "responsables",
            Source.SIECLE_PERSONNE,
            desired,
            lambda pid, profile, source: source == Source.SIECLE_PERSONNE
            and profile == Profile.RESPONSABLE
            and pid not in protected,
        )

    # --- CSV -------------------------------------------------------------------------------------
    def _csv(self) -> None:
        data = self.parsed.csv
        assert data is not None
        pk_of, created, updated = self._persons(
            Source.CSV, ((i, p.values) for i, p in data.persons.items()), creatable=lambda _i: True
        )
        for origin_id, person in data.persons.items():
            pk = pk_of[origin_id]
            kind = _kind(next(iter(person.profiles)))
            if pk in created:
                self.tally[kind].created.add(pk)
            elif pk in updated:
                self.tally[kind].updated.add(pk)

        desired: dict[str, dict] = defaultdict(dict)
        teachings: set[tuple[int, int | None, int | None, int | None]] = set()
        links: dict[tuple[int, int], tuple] = {}
        for origin_id, person in data.persons.items():
            pk = pk_of[origin_id]
            for profile, classes in person.profiles.items():
                if profile == Profile.RESPONSABLE:
                    continue
                division = self.division_pk[classes[0]] if profile == Profile.ELEVE and classes else None
                desired[_kind(profile)][(pk, profile)] = (division, "", "", None)
                if profile == Profile.ENSEIGNANT:
                    teachings.update((pk, self.division_pk[c], None, None) for c in classes)
                if profile in STAFF_PROFILES:
                    self.staff_pks.add(pk)
            for child in person.children:
                pupil = pk_of.get(child)
                in_file = data.persons.get(child)
                if pupil is None or (in_file is not None and Profile.ELEVE not in in_file.profiles):
                    self.report.error(
                        ImportRefused(
                            _("responsable_de : aucun élève n'a l'id « %(id)s » (ni dans le fichier, ni déjà importé).")
                            % {"id": child},
                            file=_csv_label(self.report),
                            line=person.line,
                        )
                    )
                    continue
                links[(pupil, pk)] = (Guardianship.Level.LEGAL, "", False, None, None)
        if self.report.error_count:
            first = self.report.errors[0]
            raise ImportRefused(first["message"], file=first["file"], line=first["line"])

        # Only the profiles present in the file are authoritative: a CSV of teachers alone must
        # not mark the pupils of an earlier CSV as departed.
        for kind in ("pupils", "staff"):
            profiles = {p for p in data.profiles if _kind(p) == kind}
            if profiles:

                def in_scope(pid: int, profile: str, source: str, profiles: set[str] = profiles) -> bool:
                    return source == Source.CSV and profile in profiles

                self._memberships(kind, Source.CSV, desired.get(kind, {}), in_scope)
        if Profile.ENSEIGNANT in data.profiles:
            self.tally["staff"].updated.update(self._teachings(Source.CSV, teachings))
        if Profile.RESPONSABLE in data.profiles:
            self._guardianships({Source.CSV}, links)
            # Responsables are members while one of their children is (pupils were done above).
            active = {
                pid for (pid, profile), m in self.memberships.items() if profile == Profile.ELEVE and m[4] is None
            }
            legal = {guardian for (pupil, guardian) in links if pupil in active}
            self._memberships(
                "responsables",
                Source.CSV,
                {(pid, Profile.RESPONSABLE): (None, "", "", None) for pid in legal},
                lambda pid, profile, source: source == Source.CSV and profile == Profile.RESPONSABLE,
            )
            without_child = [i for i, p in data.persons.items() if Profile.RESPONSABLE in p.profiles and pk_of[i] not in legal]
            if without_child:
                self.report.warn(
                    "csv_no_child",
                    _("Responsables sans enfant actuellement scolarisé (pas de compte responsable)"),
                    ", ".join(without_child[:20]),
                )

    # --- accounts ------------------------------------------------------------------------------
    def _accounts(self) -> None:
        if self.with_account is None:
            self.with_account = set(
                User.objects.filter(person__origin_etablissement=self.etab).values_list("person_id", flat=True)
            )
        missing = [pk for pk in self.member_pks if pk not in self.with_account and pk not in self.accounted]
        self.accounted.update(missing)
        old = [pk for pk in missing if pk not in self.new_people]
        names = dict(self.new_people)
        for chunk in _chunks(old, BATCH):
            names.update(
                (pk, (first, last, usage))
                for pk, first, last, usage in Person.objects.filter(pk__in=chunk).values_list(
                    "pk", "first_name", "last_name", "usage_name"
                )
            )
        if self.allocator is not None:
            created = _create_accounts_fast(missing, names, self.allocator)
        elif len(missing) < FAST_ACCOUNTS_FROM:
            people = [
                Person(pk=pk, first_name=names[pk][0], last_name=names[pk][1], usage_name=names[pk][2])
                for pk in missing
            ]
            created = len(create_accounts(people))
        else:
            lock_identifiers()
            created = _create_accounts_fast(missing, names, IdentifierAllocator(preload_all=True))
        self.report.add("created", "accounts", created)


# `create_accounts` builds a User object per person and calls bulk_create: about 150 µs per
# account on the bench, 40 s for the 270,000 accounts of a 100,000-pupil import. From this many
# accounts on, the import allocates identifiers with the same allocator under the same lock, and
# inserts the rows itself (see bulk.py). The result is the same: prenom.nom identifiers with
# suffixes, no usable password, every other field at its model default.
FAST_ACCOUNTS_FROM = 2000


def _create_accounts_fast(
    person_pks: list[int], names: dict[int, tuple[str, str, str]], allocator: IdentifierAllocator
) -> int:
    """Accounts for `person_pks` with identifiers from `allocator` (made under lock_identifiers)."""

    # A generator: on PostgreSQL the server stores the first accounts while the next identifiers
    # are being allocated (COPY streams).
    def rows() -> Iterator[tuple[str, int, str]]:
        for pk in person_pks:
            first, last, usage = names[pk]
            yield (allocator.allocate(first, usage or last), pk, UNUSABLE_PASSWORD)

    insert_rows(User, ("username", "person", "password"), rows())
    return len(person_pks)


# From this many persons, writes go to a background thread (see _Writer.__init__), on
# PostgreSQL only: there the server does the work while this process prepares the next rows
# (bench, 100,000 pupils: 32.3 s -> 30.4 s). On SQLite the database work is done in this process,
# under the GIL for each row's parameters, and competes with the parsing worker for the two
# cores: measured slower (22.2 s -> 27.4 s), so SQLite writes in the foreground.
BACKGROUND_FROM_PERSONS = 5000
BACKGROUND_VENDORS = frozenset({"postgresql"})


def _expected_persons(parsed: Parsed) -> int:
    """Persons (and at most memberships) the import may write; a pending Responsables file is
    estimated at two persons per pupil."""
    total = 0
    if parsed.sts:
        total += len(parsed.sts.staff)
    if parsed.eleves:
        total += len(parsed.eleves.pupils)
    if parsed.responsables:
        total += len(parsed.responsables.persons)
    elif parsed.pending is not None:
        total += 2 * (len(parsed.eleves.pupils) if parsed.eleves else 0) + 1000
    if parsed.csv:
        total += sum(len(p.profiles) for p in parsed.csv.persons.values())
    return total


def _kind(profile: str) -> str:
    if profile == Profile.ELEVE:
        return "pupils"
    if profile == Profile.RESPONSABLE:
        return "responsables"
    return "staff"


def _csv_label(report: Report) -> str:
    return next((f["name"] for f in report.files if f["kind"] == "csv"), "")


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
