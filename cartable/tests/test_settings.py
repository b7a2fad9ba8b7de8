"""Settings come from the environment: check them in a fresh interpreter for each case."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'opts': s.DATABASES['default'].get('OPTIONS', {}), 'secure': s.SESSION_COOKIE_SECURE,"
    " 'cookie': s.SESSION_COOKIE_NAME, 'hsts': s.SECURE_HSTS_SECONDS, 'hosts': s.ALLOWED_HOSTS,"
    " 'email': s.EMAIL_BACKEND, 'tz': s.TIME_ZONE, 'lang': s.LANGUAGE_CODE, 't': s.ARGON2_TIME_COST,"
    " 'm': s.ARGON2_MEMORY_COST_KIB, 'p': s.ARGON2_PARALLELISM}))"
)


def probe(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SITE_URL", "EMAIL_URL", "SECRET_KEY"}}
    base.update({"DJANGO_SETTINGS_MODULE": "cartable.settings", "CARTABLE_VAR_DIR": str(tmp_path)}, **env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=base, cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_demo_defaults(tmp_path):
    s = probe(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "cartable.sqlite3")
    assert s["opts"]["transaction_mode"] == "IMMEDIATE"
    assert s["secure"] is False  # http://127.0.0.1 demo
    assert s["email"] == "cartable.demo.mail.OutboxBackend"
    assert (s["tz"], s["lang"]) == ("Europe/Paris", "fr-fr")
    assert (s["t"], s["m"], s["p"]) == (2, 19456, 1)
    assert (tmp_path / "secret_key").exists()


def test_production_like_environment(tmp_path):
    s = probe(
        tmp_path,
        DATABASE_URL="postgres://cartable:pw@db.example:5432/ent",
        SITE_URL="https://ent.example.fr",
        SECRET_KEY="x" * 50,
        EMAIL_URL="smtp://user:pw@smtp.example:587/?tls=True",
        ARGON2_MEMORY_COST_KIB="65536",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "ent"
    assert s["secure"] is True and s["cookie"] == "__Host-sessionid"
    assert s["hsts"] == 31536000
    assert "ent.example.fr" in s["hosts"]
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["m"] == 65536


def test_bad_value_fails_at_start(tmp_path):
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base.update({"DJANGO_SETTINGS_MODULE": "cartable.settings", "CARTABLE_VAR_DIR": str(tmp_path), "ARGON2_TIME_COST": "deux"})
    out = subprocess.run([sys.executable, "-c", PROBE], env=base, cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode != 0
