"""Benchmark of single sign-on: validations per second against the server's simplest view.

Issue 5's acceptance: `p3/serviceValidate` (and the OpenID Connect token endpoint) per second
under concurrent clients, each as a ratio against the same server's simplest view in the same
run. The simplest view is /cas/health (a plain "ok" through the whole middleware stack): the
ratio says what the validation costs on top of Django answering at all.

    .venv/bin/python bench/sso.py                           # SQLite, 2 workers, 15 s per figure
    .venv/bin/python bench/sso.py --db postgres --seconds 30
    .venv/bin/python bench/sso.py --seconds 2 --rounds 1 --warmup 0.5   # a smoke run

Each run gets a fresh database (SQLite: a temporary file; PostgreSQL: cartable_bench_sso,
dropped and recreated), migrated, with one établissement, a class, P pupils and a CAS service
releasing the Pronote attributes plus uid and classes, and T service tickets issued in advance
(their digests stored as the server stores them; their lifetime raised for the run, since they
wait before being used). Then gunicorn with W sync workers serves the app (DEBUG off), and for
each figure R rounds alternate:
  1. baseline: C client threads GET /cas/health on keep-alive connections → baseline_per_s;
  2. measured: C client threads each GET /cas/p3/serviceValidate with the next unused ticket;
     only an answer with <cas:authenticationSuccess> counts → per_s.
Alternating keeps both figures on the same machine state. The clients run on the same cores as
the server, which the ratio includes (they cost about the same per request for both).

Other figures plug in through FIGURES (and their data through PREPARE, run once in a Django
child process before the server starts): the OpenID Connect helper adds its token endpoint
there. A figure is a function (Context) -> dict of results, usually `ctx.compare(name, request)`.

Results: bench/results/sso.json {"name", "figures", "baseline", "ratio", "goal", "machine"}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import login as login_bench  # noqa: E402  (bench/login.py: machine, gunicorn and port helpers)

ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "sso.json"
PG_BENCH_DB = "cartable_bench_sso"
HEALTH_PATH = "/cas/health"
SERVICE_URL = "https://pronote.bench.invalid/pronote/eleve.html"
# django-cas-server 3.1 reached ~0.16 of a plain view here (shared/IDENTITY.md): the goal is to do
# clearly better with the protocol written for our registry.
GOAL = ">= 0.5"
GOAL_RATIO = 0.5

# A request made by one client thread on its own keep-alive connection: True when it succeeded.
Request = Callable[[http.client.HTTPConnection], bool]


# --- Data (run in a Django child process) --------------------------------------------------------


def prepare_cas(workdir: Path, pupils: int, tickets: int) -> None:
    """Pupils, the CAS service, and `tickets` service tickets written to workdir/tickets.txt."""
    import datetime

    from django.utils import timezone

    from cartable.accounts.models import User
    from cartable.accounts.tokens import digest
    from cartable.directory.models import Division, Etablissement, Membership, Person, Profile
    from cartable.sso.models import AttributeProfile, Service, Ticket
    from cartable.sso.tickets import new_value

    etab = Etablissement.objects.create(uai="0999999X", name="Collège du banc d'essai", current_year=2026)
    division = Division.objects.create(etablissement=etab, year=2026, code="6A")
    people = Person.objects.bulk_create(
        [Person(first_name=f"Élève{i}", last_name="BANC", birth_date=datetime.date(2014, 1, 1)) for i in range(pupils)]
    )
    Membership.objects.bulk_create(
        [Membership(person=p, etablissement=etab, profile=Profile.ELEVE, division=division) for p in people]
    )
    now = timezone.now()
    users = User.objects.bulk_create(
        [User(username=f"bench.eleve{i:05d}", person=p, activated_at=now) for i, p in enumerate(people)]
    )
    service = Service.objects.create(
        etablissement=etab,
        name="Pronote",
        access_url=SERVICE_URL,
        service_patterns="https://pronote.bench.invalid/pronote/*",
        released_attributes=["uid", "classes"],
        attribute_profile=AttributeProfile.PRONOTE,
        allowed_profiles=[Profile.ELEVE],
    )
    values = [new_value("ST") for _ in range(tickets)]
    expires = now + datetime.timedelta(days=1)
    Ticket.objects.bulk_create(
        [
            Ticket(
                kind=Ticket.Kind.SERVICE, digest=digest(v), user=users[i % len(users)], service=service,
                url=SERVICE_URL, created_at=now, expires_at=expires,
            )
            for i, v in enumerate(values)
        ],
        batch_size=2000,
    )  # fmt: skip
    (workdir / "tickets.txt").write_text("\n".join(values))


# Functions run in the Django child process, in order: (workdir, args) -> None.
PREPARE: list[Callable[[Path, argparse.Namespace], None]] = [
    lambda workdir, args: prepare_cas(workdir, args.pupils, args.tickets),
]


def _child_prepare(workdir: str, args_json: str) -> None:
    login_bench._django_setup(os.environ["DATABASE_URL"])
    args = argparse.Namespace(**json.loads(args_json))
    for prepare in PREPARE:
        prepare(Path(workdir), args)


# --- Load ----------------------------------------------------------------------------------------


@dataclass
class Context:
    port: int
    clients: int
    rounds: int
    seconds: float
    warmup: float
    workdir: Path
    baselines: list[float] = field(default_factory=list)

    def load(self, request: Request, seconds: float) -> tuple[int, int, float]:
        """C threads repeat `request` for `seconds`: (successes, failures, elapsed)."""
        counts = [0, 0]
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def client() -> None:
            ok = failed = 0
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            while time.monotonic() < stop_at:
                try:
                    if request(conn):
                        ok += 1
                    else:
                        failed += 1
                except (OSError, http.client.HTTPException):
                    failed += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.close()
            with lock:
                counts[0] += ok
                counts[1] += failed

        began = time.monotonic()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return counts[0], counts[1], time.monotonic() - began

    def compare(self, name: str, request: Request) -> dict:
        """Alternate the baseline and `request`; the figure, the baseline and their ratio."""
        slice_seconds = self.seconds / self.rounds
        self.load(request, self.warmup)
        self.load(health, self.warmup)
        base, measured, failures = [], [], 0
        for _ in range(self.rounds):
            ok, _failed, spent = self.load(health, slice_seconds)
            base.append(ok / spent)
            ok, failed, spent = self.load(request, slice_seconds)
            measured.append(ok / spent)
            failures += failed
        self.baselines.extend(base)
        per_s, baseline = statistics.fmean(measured), statistics.fmean(base)
        return {
            f"{name}_per_s": round(per_s, 1),
            f"{name}_baseline_per_s": round(baseline, 1),
            f"{name}_ratio": round(per_s / baseline, 3),
            f"{name}_failures": failures,
            f"{name}_rounds": [round(m, 1) for m in measured],
        }


def health(conn: http.client.HTTPConnection) -> bool:
    conn.request("GET", HEALTH_PATH)
    response = conn.getresponse()
    return response.status == 200 and response.read() == b"ok\n"


def p3_service_validate(ctx: Context) -> dict:
    tickets = iter((ctx.workdir / "tickets.txt").read_text().split("\n"))
    lock = threading.Lock()

    def request(conn: http.client.HTTPConnection) -> bool:
        with lock:
            ticket = next(tickets, None)
        if ticket is None:
            raise SystemExit("out of tickets: raise --tickets")
        conn.request("GET", "/cas/p3/serviceValidate?" + urlencode({"ticket": ticket, "service": SERVICE_URL}))
        response = conn.getresponse()
        body = response.read()
        return response.status == 200 and b"<cas:authenticationSuccess>" in body and b"<cas:categories>" in body

    return ctx.compare("p3_service_validate", request)


# Each figure of the run: (Context) -> results. The OpenID Connect token endpoint goes here too.
FIGURES: list[Callable[[Context], dict]] = [p3_service_validate]

import oidc_token  # noqa: E402  (bench/oidc_token.py: the OpenID Connect token endpoint)

PREPARE.append(oidc_token.prepare)
FIGURES.append(oidc_token.token_endpoint)


# --- Run -----------------------------------------------------------------------------------------


def _fresh_database(db: str, workdir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / 'sso.sqlite3'}"
    import psycopg

    with psycopg.connect(login_bench.PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return login_bench.PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes (default: cores)")
    parser.add_argument("--clients", type=int, default=0, help="client threads (default: 2 per worker)")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per figure, and as many of baseline")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/measured alternations (default 3)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=40000, help="service tickets issued in advance")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--prepare", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.prepare:
        _child_prepare(*args.prepare)
        return

    clients = args.clients or 2 * args.workers
    busy = login_bench._machine_busy()
    if busy > 0.1:
        print(f"warning: {busy:.0%} of the CPU is busy before the bench starts; figures will be low", flush=True)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cartable-bench-sso-") as tmp:
        workdir = Path(tmp)
        db_url = _fresh_database(args.db, workdir)
        env = login_bench._base_env(workdir, db_url, login_bench.Argon2Params(2, 19 * 1024, 1), redis=False)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run([*manage, "createcachetable"], cwd=ROOT, env=env, check=True)
        settings = {k: v for k, v in vars(args).items() if isinstance(v, int | float | str) and k != "prepare"}
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(workdir), json.dumps(settings)], cwd=ROOT, env=env, check=True
        )
        port = login_bench._free_port()
        server = login_bench._start_gunicorn(env, args.workers, port)
        try:
            ctx = Context(port, clients, args.rounds, args.seconds, args.warmup, workdir)
            figures: dict = {}
            for figure in FIGURES:
                figures |= figure(ctx)
        finally:
            login_bench._stop(server)

    baseline = round(statistics.fmean(ctx.baselines), 1)
    ratio = figures["p3_service_validate_ratio"]
    output = {
        "name": "sso",
        "figures": figures | {"workers": args.workers, "clients": clients, "seconds": args.seconds, "db": args.db},
        "baseline": {"health_per_s": baseline, "path": HEALTH_PATH},
        "ratio": ratio,
        "goal": GOAL,
        "goal_met": ratio >= GOAL_RATIO,
        "machine": login_bench._machine() | {"load_before": load_before, "load_after": os.getloadavg()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    for key, value in figures.items():
        if not key.endswith("_rounds"):
            print(f"{key}: {value}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
