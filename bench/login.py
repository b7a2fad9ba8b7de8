"""Benchmark of the login: logins per second against Argon2 verifications per second.

Issue 3's acceptance: with the same Argon2 parameters and the same number of worker processes,
the real login (the page, then the POST, through gunicorn and the database) must reach at least
0.9 of what bare Argon2 verification reaches. The password hash is meant to be the cost of a
login; this measures how much everything else (HTTP, CSRF, sessions, throttle counters, queries,
templates) adds on top of it, in one run so that both figures come from the same machine state.

    .venv/bin/python bench/login.py                  # PostgreSQL, PostgreSQL + Redis, SQLite
    .venv/bin/python bench/login.py --db sqlite --seconds 10
    .venv/bin/python bench/login.py --db postgres --redis yes --workers 4 --clients 8
    .venv/bin/python bench/login.py --db postgres --profile 300   # where a login's CPU goes

Each setup gets a fresh database (PostgreSQL: cartable_bench_login, dropped and recreated;
SQLite: a temporary file; with Redis: database 14 of the local Redis, emptied), N activated
accounts with a known password (hashes kept in bench/data/ for the next run), then gunicorn
with W sync workers serves the app (DEBUG off, the app's own settings otherwise) on a free
local port, and R rounds alternate:
  1. baseline: W processes verify the accounts' Argon2 hashes in a loop (argon2-cffi, the call
     Django makes) for T/R seconds → argon2_verifications_per_s;
  2. measured: C client threads each GET /connexion/identifiant/ (CSRF cookie and token), then
     POST the next account's identifier and password, following no redirect; only a 302 to the
     home page counts. Logins completed within T/R seconds → logins_per_s.
Alternating keeps both figures on the same machine state: a test suite or another bench
started meanwhile slows both. The client runs on the same cores as the server: its CPU is
reported, with the workers' and the rest of the machine's (database, Redis, anything else), in
ms per login and as shares of the machine.

--profile N runs no server: it calls the WSGI application in-process as a gunicorn worker
does, prints the queries of one login, the CPU of the GET and the POST with and without Argon2
(stubbed out), and a CPU-time profile of N logins without Argon2.

Results: bench/results/login.json (see bench/README.md).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import itertools
import json
import multiprocessing
import os
import platform
import pstats
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "login.json"
DATA_DIR = BENCH_DIR / "data"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "cartable_bench_login"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/14"
LOGIN_PATH = "/connexion/identifiant/"
HOME_PATH = "/accueil/"
PASSWORD = "Cartable-bench-2026"  # noqa: S105 (the bench accounts' known password)
GOAL = ">= 0.9"
GOAL_RATIO = 0.9
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Argon2Params:
    t: int
    m: int  # KiB
    p: int


@dataclass(frozen=True)
class Setup:
    db: str  # "postgres" or "sqlite"
    redis: bool

    @property
    def label(self) -> str:
        return self.db + ("+redis" if self.redis else "")


# --- Machine and CPU accounting ------------------------------------------------------------------


def _machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "cpu_model": cpu,
        "platform": platform.platform(),
    }


def _system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _services_cpu() -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL on behalf of the bench's database, and by Redis.

    A backend's CPU is read while it lives (its command line names the database) and, once it
    has exited, from the postmaster's reaped-children time: with CONN_MAX_AGE=0 each request's
    backend lives for one request. The latter also counts any other database's backend that
    exits meanwhile (another bench), which the report says.
    """
    used = {"postgres": 0.0, "redis": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm not in ("postgres", "redis-server"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if comm == "redis-server":
            used["redis"] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        elif fields[1] == "1":  # the postmaster: the backends it has reaped
            used["postgres"] += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
        elif f" {PG_BENCH_DB} ".encode() in cmdline:
            used["postgres"] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy(seconds: float = 1.0) -> float:
    """Share of the machine's CPU busy over `seconds` (to warn when something else is running)."""
    busy0, total0 = _system_cpu()
    time.sleep(seconds)
    busy1, total1 = _system_cpu()
    return (busy1 - busy0) / max(total1 - total0, 1e-9)


# --- Accounts ------------------------------------------------------------------------------------


def _hash_password(params: Argon2Params) -> str:
    """One Argon2id hash of PASSWORD exactly as Django's Argon2PasswordHasher.encode() makes it.

    Django's salt is 22 characters from [A-Za-z0-9] passed as bytes (argon2-cffi's own hash()
    uses 16 random bytes, which Django's must_update() finds too weak: every first login would
    then rehash, doubling its cost). _populate() checks that no account needs a rehash.
    """
    import argon2

    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    salt = "".join(secrets.choice(alphabet) for _ in range(22))
    encoded = argon2.low_level.hash_secret(
        PASSWORD.encode(),
        salt.encode(),
        time_cost=params.t,
        memory_cost=params.m,
        parallelism=params.p,
        hash_len=argon2.DEFAULT_HASH_LENGTH,
        type=argon2.low_level.Type.ID,
    )
    return "argon2" + encoded.decode("ascii")


def _hashes(count: int, params: Argon2Params, workers: int) -> Path:
    """A JSON file of `count` hashes, each with its own salt, kept in bench/data/ for the next run.

    A shared hash would measure the same throughput (Argon2's cost does not depend on the salt),
    but distinct hashes are what a real table holds; computing 1,000 takes ~15 s on 2 cores.
    """
    path = DATA_DIR / f"login-hashes-t{params.t}-m{params.m}-p{params.p}-{count}.json"
    if not path.exists():
        began = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            hashes = pool.map(_hash_password, [params] * count, chunksize=16)
        DATA_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(hashes))
        print(f"{count} Argon2id hashes (t={params.t}, m={params.m}, p={params.p}) "
              f"in {time.perf_counter() - began:.1f} s", flush=True)  # fmt: skip
    return path


def _django_setup(db_url: str) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartable.settings")
    django.setup()


def _populate(db_url: str, hashes_file: str) -> None:
    """(Child process) Create the accounts in the database named by DATABASE_URL."""
    _django_setup(db_url)
    from django.contrib.auth.hashers import get_hasher
    from django.utils import timezone

    from cartable.accounts.models import User

    hashes = json.loads(Path(hashes_file).read_text())
    # A login that rehashes costs two Argon2 computations: the accounts must not need one.
    hasher = get_hasher()
    if hasher.must_update(hashes[0]) or not hasher.verify(PASSWORD, hashes[0]):
        raise SystemExit("the bench hashes do not match the configured Argon2 parameters")
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                username=_username(i), password=h, is_active=True, credentials_issued_at=now, activated_at=now
            )
            for i, h in enumerate(hashes)
        ],
        batch_size=1000,
    )
    # An activated account has accepted the current charter (during its activation); without
    # that, the login would send it to the charter instead of the home page.
    from cartable.accounts import models

    if hasattr(models, "CharterAcceptance") and (charter := models.Charter.current()) is not None:
        models.CharterAcceptance.objects.bulk_create(
            [models.CharterAcceptance(user=user, charter=charter) for user in users], batch_size=1000
        )


def _username(i: int) -> str:
    return f"bench.compte{i:05d}"


# --- Databases and server ------------------------------------------------------------------------


def _base_env(workdir: Path, db_url: str, params: Argon2Params, redis: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cartable.settings",
        "DATABASE_URL": db_url,
        "DEBUG": "false",
        "DEMO": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CARTABLE_VAR_DIR": str(workdir / "var"),
        "ARGON2_TIME_COST": str(params.t),
        "ARGON2_MEMORY_COST_KIB": str(params.m),
        "ARGON2_PARALLELISM": str(params.p),
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_BENCH_URL
    return env


def _fresh_database(setup: Setup, workdir: Path) -> str:
    if setup.db == "sqlite":
        path = workdir / f"{setup.label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB


def _prepare(setup: Setup, workdir: Path, hashes_file: Path, params: Argon2Params) -> dict[str, str]:
    """Fresh database, migrated, cache table or empty Redis database, accounts. Returns the env."""
    db_url = _fresh_database(setup, workdir)
    env = _base_env(workdir, db_url, params, setup.redis)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    if setup.redis:
        import redis

        redis.Redis.from_url(REDIS_BENCH_URL).flushdb()
    else:
        subprocess.run([*manage, "createcachetable"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, __file__, "--populate", db_url, str(hashes_file)], cwd=ROOT, env=env, check=True
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(env: dict[str, str], workers: int, port: int) -> subprocess.Popen:
    argv = [
        sys.executable, "-m", "gunicorn", "cartable.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", "sync",
        "--timeout", "120",
        "--backlog", "512",
        "--log-level", "warning",
        "--no-control-socket",  # several servers (tests, demo, benches) may run at once
    ]  # fmt: skip
    server = subprocess.Popen(argv, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", LOGIN_PATH)
            if conn.getresponse().status == 200 and len(_children(server.pid)) >= workers:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- Baseline: bare Argon2 verification ----------------------------------------------------------


def _verify_loop(args: tuple[list[str], float, float]) -> tuple[int, float, float, list[float]]:
    """(Pool worker) Verify hashes from `start_at` to `stop_at`: (count, seconds, CPU seconds, latencies)."""
    import argon2

    hashes, start_at, stop_at = args
    hasher = argon2.PasswordHasher()
    # Django's Argon2PasswordHasher.verify: argon2.PasswordHasher().verify("$" + rest, password).
    stored = ["$" + h.split("$", 1)[1] for h in hashes]
    hasher.verify(stored[0], PASSWORD)  # the first call after a pause allocates; not timed
    while time.time() < start_at:
        time.sleep(0.001)
    count, latencies = 0, []
    began, cpu = time.perf_counter(), time.process_time()
    for encoded in itertools.cycle(stored):
        t0 = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        latencies.append(time.perf_counter() - t0)
        count += 1
        if time.time() >= stop_at:
            break
    return count, time.perf_counter() - began, time.process_time() - cpu, latencies


class Verifiers:
    """W processes that verify the accounts' hashes for a given time: the baseline."""

    def __init__(self, hashes: list[str], workers: int) -> None:
        self.pool = multiprocessing.get_context("spawn").Pool(workers)
        self.chunks = [hashes[i::workers] for i in range(workers)]
        self.run(0.1)  # start the processes and import argon2

    def run(self, seconds: float) -> dict:
        start_at = time.time() + 0.5
        results = self.pool.map(
            _verify_loop, [(chunk, start_at, start_at + seconds) for chunk in self.chunks]
        )
        return {
            "verifications_per_s": sum(count / spent for count, spent, _cpu, _lat in results),
            "count": sum(count for count, *_rest in results),
            "cpu": sum(cpu for _count, _spent, cpu, _lat in results),
            "latencies": [x for *_rest, lat in results for x in lat],
        }

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


# --- Measured: logins through gunicorn -----------------------------------------------------------


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _eq, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value.strip()
    return jar


def login_once(port: int, username: str) -> bool:
    """GET the login page, POST the credentials; True when answered by a redirect home."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", LOGIN_PATH)
    page = conn.getresponse()
    body = page.read()
    conn.close()
    match = _CSRF_INPUT.search(body)
    if page.status != 200 or match is None:
        return False
    jar = _cookies(page)
    form = urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "identifiant": username, "mot_de_passe": PASSWORD}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", LOGIN_PATH, body=form, headers=headers)
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.status == 302 and (answer.getheader("Location") or "").endswith(HOME_PATH)


class Clients:
    """C threads logging in through the server, each login with the next account."""

    def __init__(self, port: int, server: subprocess.Popen, accounts: int, clients: int) -> None:
        self.port, self.server, self.accounts, self.clients = port, server, accounts, clients
        self.counter = itertools.count()

    def run(self, warmup: float, seconds: float) -> dict:
        """Log in for warmup + seconds; what completed within the last `seconds` counts."""
        samples: list[tuple[float, float, bool]] = []  # (end, latency, ok)
        lock = threading.Lock()
        stop_at = time.monotonic() + warmup + seconds

        def client() -> None:
            local = []
            while time.monotonic() < stop_at:
                start = time.monotonic()
                try:
                    ok = login_once(self.port, _username(next(self.counter) % self.accounts))
                except OSError:
                    ok = False
                end = time.monotonic()
                local.append((end, end - start, ok))
            with lock:
                samples.extend(local)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        workers = _children(self.server.pid)
        window_start = time.monotonic()
        services0 = _services_cpu()
        workers0, own0, system0 = sum(map(_process_cpu, workers)), _own_cpu(), _system_cpu()
        time.sleep(seconds)
        window_end = time.monotonic()
        workers1, own1, system1 = sum(map(_process_cpu, workers)), _own_cpu(), _system_cpu()
        services1 = _services_cpu()
        for thread in threads:
            thread.join()  # in-flight logins end before the next baseline slice starts
        in_window = [(lat, ok) for end, lat, ok in samples if window_start <= end < window_end]
        return {
            "seconds": window_end - window_start,
            "latencies": [lat for lat, ok in in_window if ok],
            "failures": sum(1 for _lat, ok in in_window if not ok),
            "workers_cpu": workers1 - workers0,
            "client_cpu": own1 - own0,
            "busy_cpu": system1[0] - system0[0],
            "postgres_cpu": services1["postgres"] - services0["postgres"],
            "redis_cpu": services1["redis"] - services0["redis"],
        }


def measure(verifiers: Verifiers, clients: Clients, rounds: int, seconds: float, warmup: float) -> dict:
    """Alternate baseline and login slices, so both see the same machine (others' load included)."""
    slice_seconds = seconds / rounds
    base, logins = [], []
    clients.run(warmup, 0.0)
    for _ in range(rounds):
        base.append(verifiers.run(slice_seconds))
        logins.append(clients.run(0.5, slice_seconds))  # 0.5 s: the clients' pipeline fills again
    verifications_per_s = statistics.fmean(b["verifications_per_s"] for b in base)
    verifications = sum(b["count"] for b in base)
    window = sum(r["seconds"] for r in logins)
    latencies = sorted(x for r in logins for x in r["latencies"])
    ok = len(latencies)
    capacity = window * (os.cpu_count() or 1)  # CPU seconds the machine had while logging in
    cpu = {
        key: sum(r[f"{key}_cpu"] for r in logins)
        for key in ("workers", "client", "postgres", "redis", "busy")
    }
    cpu["other"] = cpu["busy"] - cpu["workers"] - cpu["client"] - cpu["postgres"] - cpu["redis"]
    logins_per_s = ok / window
    argon2_ms = 1000 * sum(b["cpu"] for b in base) / max(verifications, 1)
    login_ms = {key: 1000 * cpu[key] / max(ok, 1) for key in cpu}
    own_ms = sum(login_ms[key] for key in ("workers", "client", "postgres", "redis"))
    return {
        "logins_per_s": round(logins_per_s, 2),
        "argon2_verifications_per_s": round(verifications_per_s, 2),
        "ratio": round(logins_per_s / verifications_per_s, 3),
        "failed_logins": sum(r["failures"] for r in logins),
        "login_p50_ms": round(1000 * _percentile(latencies, 50), 1),
        "login_p95_ms": round(1000 * _percentile(latencies, 95), 1),
        "verify_p50_ms": round(1000 * _percentile(sorted(x for b in base for x in b["latencies"]), 50), 1),
        "rounds": [
            {
                "argon2_verifications_per_s": round(b["verifications_per_s"], 1),
                "logins_per_s": round(len(r["latencies"]) / r["seconds"], 1),
            }
            for b, r in zip(base, logins, strict=True)
        ],
        # Where the CPU went while logging in, per successful login and as shares of the machine.
        # "other" is the kernel and whatever else runs on the machine (another bench, tests).
        "cpu_ms_per_login": {"argon2_alone": round(argon2_ms, 1)}
        | {key: round(login_ms[key], 1) for key in ("workers", "client", "postgres", "redis", "other")},
        "cpu_share": {
            key: round(cpu[key] / capacity, 3) for key in ("workers", "client", "postgres", "redis", "other")
        }
        | {"idle": round(1 - cpu["busy"] / capacity, 3)},
        # The ratio the machine would give if it ran nothing else: Argon2's CPU against the CPU a
        # login costs the workers, the client, PostgreSQL and Redis together.
        "cpu_bound_ratio": round(argon2_ms / own_ms, 3) if ok else 0.0,
    }


# --- Profile (in-process, the WSGI application) --------------------------------------------------


def _profile(count: int, db_url: str, hashes_file: str, top: int) -> None:
    """(Child process) CPU of `count` logins through the WSGI application, then their profile.

    The application is called directly (no HTTP, no test client), as a gunicorn worker calls it:
    the CPU measured is the worker's, minus gunicorn's parsing of the request.
    """
    _django_setup(db_url)
    import argon2
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    application = get_wsgi_application()
    hashes = json.loads(Path(hashes_file).read_text())

    def call(method: str, body: bytes = b"", cookie: str = "") -> tuple[str, dict[str, list[str]], bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": LOGIN_PATH,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_COOKIE": cookie,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer: dict = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            answer["status"] = status
            answer["headers"] = {}
            for name, value in headers:
                answer["headers"].setdefault(name.lower(), []).append(value)

        result = application(environ, start_response)
        content = b"".join(result)
        result.close()  # type: ignore[attr-defined]  (request_finished: closes the connection)
        return answer["status"], answer["headers"], content

    cpu = {"get": 0.0, "post": 0.0}

    def one(i: int) -> None:
        began = time.process_time()
        status, headers, content = call("GET")
        cpu["get"] += time.process_time() - began
        token = _CSRF_INPUT.search(content)
        assert status.startswith("200") and token is not None, status
        cookie = "; ".join(c.split(";", 1)[0] for c in headers.get("set-cookie", []))
        form = {"csrfmiddlewaretoken": token.group(1).decode(), "identifiant": _username(i % len(hashes))}
        body = urlencode({**form, "mot_de_passe": PASSWORD}).encode()
        began = time.process_time()
        status, headers, _content = call("POST", body, cookie)
        cpu["post"] += time.process_time() - began
        assert status.startswith("302") and headers["location"][0].endswith(HOME_PATH), status

    for i in range(5):  # warm-up: imports, templates
        one(i)
    with CaptureQueriesContext(connection) as queries:
        one(5)
    print(f"\n--- {len(queries.captured_queries)} queries for one login (GET + POST) ---")
    for query in queries.captured_queries:
        print(f"{query['time']:>6} s  {query['sql'][:150]}")

    # Without the profiler first: what a login costs in one process, and how much is Argon2.
    stored = ["$" + h.split("$", 1)[1] for h in hashes]
    began = time.process_time()
    for i in range(count):
        argon2.PasswordHasher().verify(stored[i % len(stored)], PASSWORD)
    verify_ms = 1000 * (time.process_time() - began) / count
    cpu = {"get": 0.0, "post": 0.0}
    for i in range(6, 6 + count):
        one(i)
    get_ms, post_ms = (1000 * cpu[k] / count for k in ("get", "post"))
    print(
        f"\n--- CPU per login, no profiler: GET {get_ms:.1f} ms + POST {post_ms:.1f} ms (of which Argon2 alone "
        f"{verify_ms:.1f} ms) = {get_ms + post_ms:.1f} ms; all but Argon2: {get_ms + post_ms - verify_ms:.1f} ms; "
        f"Argon2 share {verify_ms / (get_ms + post_ms):.2f} ---"
    )
    # Then what is not Argon2, alone: the hash check answers at once (same code path otherwise).
    argon2.PasswordHasher.verify = lambda self, encoded, password: True  # type: ignore[method-assign]
    cpu = {"get": 0.0, "post": 0.0}
    busy0 = _system_cpu()[0]
    began = time.perf_counter()
    for i in range(6 + count, 6 + 2 * count):
        one(i)
    elapsed = time.perf_counter() - began
    others_ms = 1000 * (_system_cpu()[0] - busy0 - cpu["get"] - cpu["post"]) / count
    get_ms, post_ms = (1000 * cpu[k] / count for k in ("get", "post"))
    print(
        f"--- Argon2 stubbed out: GET {get_ms:.1f} ms + POST {post_ms:.1f} ms of CPU; {1000 * elapsed / count:.1f} ms "
        f"wall; other processes (database, Redis, anything else running) {others_ms:.1f} ms of CPU per login ---"
    )
    profiler = cProfile.Profile(time.process_time)  # CPU time: waits on the database do not count
    profiler.enable()
    for i in range(6 + 2 * count, 6 + 3 * count):
        one(i)
    profiler.disable()
    print("--- CPU profile with Argon2 stubbed out ---")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


# --- Main ----------------------------------------------------------------------------------------


def _setups(db: str, redis: str) -> list[Setup]:
    dbs = ["postgres", "sqlite"] if db == "all" else [db]
    setups = []
    for name in dbs:
        if redis == "both" or (redis == "auto" and name == "postgres"):
            setups += [Setup(name, False), Setup(name, True)]
        else:
            setups.append(Setup(name, redis == "yes"))
    return setups


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["all", "postgres", "sqlite"], default="all")
    parser.add_argument(
        "--redis",
        choices=["auto", "yes", "no", "both"],
        default="auto",
        help="auto: PostgreSQL with and without Redis, SQLite without (default)",
    )
    parser.add_argument("--accounts", type=int, default=1000, help="accounts created (default 1000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes (default: cores)")
    parser.add_argument("--clients", type=int, default=0, help="client threads (default: 2 per worker)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=15.0,
        help="seconds of logins, and as many of baseline, per setup (default 15)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="baseline/login alternations (default 3)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring (default 3)")
    parser.add_argument("-t", "--time-cost", type=int, default=2)
    parser.add_argument("-m", "--memory-cost", type=int, default=19 * 1024, help="KiB (default 19456)")
    parser.add_argument("-p", "--parallelism", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--profile", type=int, metavar="N", default=0, help="only profile N logins in-process"
    )
    parser.add_argument("--populate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.populate:
        _populate(*args.populate)
        return
    if args.profile_child:
        _profile(int(args.profile_child[0]), args.profile_child[1], args.profile_child[2], top=40)
        return

    params = Argon2Params(args.time_cost, args.memory_cost, args.parallelism)
    clients = args.clients or 2 * args.workers
    setups = _setups(args.db, args.redis)
    load_before = os.getloadavg()
    busy = _machine_busy()
    if busy > 0.1:
        print(
            f"warning: {busy:.0%} of the CPU is busy before the bench starts; figures will be low", flush=True
        )

    with tempfile.TemporaryDirectory(prefix="cartable-bench-login-") as tmp:
        workdir = Path(tmp)
        hashes_file = _hashes(args.accounts, params, args.workers)

        if args.profile:
            env = _prepare(setups[-1] if args.db == "all" else setups[0], workdir, hashes_file, params)
            child = [sys.executable, __file__, "--profile-child", str(args.profile), env["DATABASE_URL"]]
            subprocess.run([*child, str(hashes_file)], cwd=ROOT, env=env, check=True)
            return

        verifiers = Verifiers(json.loads(hashes_file.read_text()), args.workers)
        runs = []
        try:
            for setup in setups:
                env = _prepare(setup, workdir, hashes_file, params)
                port = _free_port()
                server = _start_gunicorn(env, args.workers, port)
                try:
                    load = Clients(port, server, args.accounts, clients)
                    figures = measure(verifiers, load, args.rounds, args.seconds, args.warmup)
                finally:
                    _stop(server)
                runs.append({"setup": setup.label, "db": setup.db, "redis": setup.redis, **figures})
                if figures["failed_logins"]:
                    print(
                        f"warning: {figures['failed_logins']} logins did not reach the home page", flush=True
                    )
                print(f"{setup.label}: {figures['logins_per_s']} logins/s against "
                      f"{figures['argon2_verifications_per_s']} Argon2 verifications/s: ratio {figures['ratio']}; "
                      f"login p50 {figures['login_p50_ms']} ms, p95 {figures['login_p95_ms']} ms; "
                      f"CPU ms per login {figures['cpu_ms_per_login']}, "
                      f"CPU-bound ratio {figures['cpu_bound_ratio']}", flush=True)  # fmt: skip
        finally:
            verifiers.close()

    # The headline figures are production's setup (PostgreSQL with Redis) when it was measured.
    main_run = next((r for r in runs if r["db"] == "postgres" and r["redis"]), runs[0])
    output = {
        "name": "login",
        "figures": {
            "logins_per_s": main_run["logins_per_s"],
            "argon2_verifications_per_s": main_run["argon2_verifications_per_s"],
            "workers": args.workers,
            "clients": clients,
            "seconds": args.seconds,
            "db": main_run["setup"],
            "argon2": {"t": params.t, "m": params.m, "p": params.p},
            "login_p50_ms": main_run["login_p50_ms"],
            "login_p95_ms": main_run["login_p95_ms"],
            "client_cpu_share": main_run["cpu_share"]["client"],
        },
        "baseline": {
            "argon2_verifications_per_s": main_run["argon2_verifications_per_s"],
            "verify_p50_ms": main_run["verify_p50_ms"],
        },
        "ratio": main_run["ratio"],
        "cpu_bound_ratio": main_run["cpu_bound_ratio"],
        "goal": GOAL,
        "goal_met": all(r["ratio"] >= GOAL_RATIO for r in runs),
        "runs": runs,
        "machine": {
            **_machine(),
            "busy_share_before": round(busy, 3),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: output[k] for k in ("figures", "ratio", "cpu_bound_ratio", "goal_met")}, indent=2))


if __name__ == "__main__":
    main()
