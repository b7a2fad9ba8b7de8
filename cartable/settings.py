"""Cartable settings, read from environment variables (twelve-factor).

Every limit and policy lives here as a named setting with a default, so a
deployment changes behaviour through its environment, never through code.
Bad values fail at start-up (django-environ raises), not at the first request.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from cartable.oidc import keys as oidc_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CARTABLE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _secret_key() -> str:
    """SECRET_KEY from the environment (or SECRET_KEY_FILE); the demo keeps one in ./var/."""
    if env.str("SECRET_KEY", default=""):
        return env.str("SECRET_KEY")
    if env.str("SECRET_KEY_FILE", default=""):
        return Path(env.str("SECRET_KEY_FILE")).read_text().strip()
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)

# Public address of the ENT: printed on credential letters, used in e-mails and QR codes.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
SITE_IS_HTTPS = _site.scheme == "https"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[_site.hostname or "127.0.0.1", "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "cartable.directory",
    "cartable.accounts",
    "cartable.activation",
    "cartable.imports",
    "cartable.portal",
    "cartable.delivery",
    "cartable.demo",
    "cartable.recovery",
    "cartable.myaccount",
    "cartable.registration",
    "cartable.linking",
    "cartable.merging",
    "cartable.franceconnect",
    "oauth2_provider",
    "cartable.oidc",
    "cartable.api",
    "cartable.sso",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cartable.lib.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # "Mémoriser ce choix : Non": log out after PUBLIC_SESSION_IDLE_SECONDS without activity.
    "cartable.portal.middleware.PublicSessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cartable.urls"
WSGI_APPLICATION = "cartable.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cartable" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cartable.portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# SQLite is the embedded default. Measured here: with Django's default (deferred) transactions,
# a quarter of concurrent writes failed with "database is locked"; IMMEDIATE transactions with
# WAL removed those failures.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cartable.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening a PostgreSQL connection forks a server process, which cost
# more than the rest of a login together (bench/login). Health checks drop broken ones.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling counters, sessions in production) ------------------------------------
# Throttling must be shared by every worker process: Redis when REDIS_URL is set, otherwise
# a database table (works on one machine with several workers, no extra service needed).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Django's Redis backend, with its Redis client reused between calls (cartable/lib/cache.py).
    CACHES = {"default": {"BACKEND": "cartable.lib.cache.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "cartable.lib.cached_sessions"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cartable_cache"}
    }
    SESSION_ENGINE = "cartable.lib.sessions"

# --- Users and passwords --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["cartable.accounts.backends.IdentifierBackend"]
LOGIN_URL = "portal:start"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:index"

# Password hashing is a capacity decision (README, "Hachage des mots de passe"). Measured here on
# 2 cores: Django's default Argon2 (100 MiB, p=8) ~180 ms a login, about 6 logins/s; OWASP's
# minimum Argon2id (19 MiB, t=2, p=1) ~30 ms, about 67 logins/s. Defaults are OWASP's minimum.
# Changing them rehashes each password at its owner's next successful login.
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_COST_KIB = env.int("ARGON2_MEMORY_COST_KIB", default=19 * 1024)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
PASSWORD_HASHERS = [
    # Named "argon2" like Django's own: it verifies any Argon2 hash whatever its parameters (they
    # are stored in the hash) and rehashes with the current ones. Django's Argon2PasswordHasher
    # must not be listed too, or it would shadow this one for checking.
    "cartable.accounts.hashers.CartableArgon2Hasher",
    # Kept so that passwords from an older PBKDF2 deployment can still be checked (then rehashed).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # OpenID Connect client secrets only (cartable.oidc.hashers): never first, so no password
    # is ever hashed with it; listed because Django finds a hash's hasher in this list.
    "cartable.oidc.hashers.ClientSecretHasher",
]
# One password policy per deployment (cartable.accounts.policy): "scolarite-services" (8 to 14
# characters, letters and digits), "eschool" (at least 8), or "cnil" (CNIL 2022-100, 50 bits
# with throttling). Every policy refuses identifiers, names, birth dates and common passwords.
PASSWORD_POLICY = env.str("PASSWORD_POLICY", default="cnil")
if PASSWORD_POLICY not in {"scolarite-services", "eschool", "cnil"}:
    raise ValueError("PASSWORD_POLICY doit valoir scolarite-services, eschool ou cnil.")
AUTH_PASSWORD_VALIDATORS = [{"NAME": "cartable.accounts.policy.PolicyValidator"}]

# --- Account rules (one place for every limit) ------------------------------------------------
# Provisional credentials (the paper letter) are valid this many days from issue.
ACTIVATION_DEADLINE_DAYS = env.int("ACTIVATION_DEADLINE_DAYS", default=92)
# Length of generated provisional passwords (alphabet without look-alike characters: 54 symbols,
# so 10 characters give about 57 bits; guesses are throttled and the password expires).
PROVISIONAL_PASSWORD_LENGTH = env.int("PROVISIONAL_PASSWORD_LENGTH", default=10)
# Lifetimes of links and codes (cartable.accounts.tokens), in seconds.
TOKEN_LIFETIMES_SECONDS = {
    "activation_email": env.int("ACTIVATION_LINK_SECONDS", default=7 * 24 * 3600),
    "email_change": env.int("EMAIL_CHANGE_LINK_SECONDS", default=24 * 3600),
    "password_reset": env.int("PASSWORD_RESET_LINK_SECONDS", default=3600),
    "password_reset_sms": env.int("SMS_CODE_SECONDS", default=30 * 60),
    "phone_code": env.int("SMS_CODE_SECONDS", default=30 * 60),
    "registration_code": env.int("SMS_CODE_SECONDS", default=30 * 60),
}
# Activation (first connection): is a personal e-mail address required (seed 001) or optional,
# with two secret questions instead (seed 003)?
ACTIVATION_EMAIL_REQUIRED = env.bool("ACTIVATION_EMAIL_REQUIRED", default=False)
# A started activation (after the letter's password was accepted) stays usable this long.
ACTIVATION_FLOW_SECONDS = env.int("ACTIVATION_FLOW_SECONDS", default=3600)
# Wrong birth dates a parent may type during activation before being blocked for a while.
BIRTHDATE_MAX_FAILURES = env.int("BIRTHDATE_MAX_FAILURES", default=5)
BIRTHDATE_LOCK_SECONDS = env.int("BIRTHDATE_LOCK_SECONDS", default=15 * 60)
# An account never activated is deleted (personal data erased, audit line kept) this many days
# after its provisional credentials were issued; it is deactivated at ACTIVATION_DEADLINE_DAYS.
ACCOUNT_DELETION_DAYS = env.int("ACCOUNT_DELETION_DAYS", default=365)
# Forgotten identifier / password and secret answers: requests per address, and per account.
RECOVERY_MAX_PER_ADDRESS = env.int("RECOVERY_MAX_PER_ADDRESS", default=10)
RECOVERY_MAX_PER_ACCOUNT = env.int("RECOVERY_MAX_PER_ACCOUNT", default=5)
RECOVERY_LOCK_SECONDS = env.int("RECOVERY_LOCK_SECONDS", default=3600)
# SMS codes that may be sent to one number within RECOVERY_LOCK_SECONDS (resends included).
SMS_MAX_PER_NUMBER = env.int("SMS_MAX_PER_NUMBER", default=3)
# "Conserver l'identification" (offered only on a remembered, private computer): session length.
REMEMBER_ME_DAYS = env.int("REMEMBER_ME_DAYS", default=30)
# Wrong tries allowed on one SMS code before it is void.
CODE_MAX_ATTEMPTS = env.int("CODE_MAX_ATTEMPTS", default=3)
# Login throttling: per identifier, and per client address.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", default=5)
LOGIN_ACCOUNT_LOCK_SECONDS = env.int("LOGIN_ACCOUNT_LOCK_SECONDS", default=15 * 60)
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default=30)
LOGIN_ADDRESS_LOCK_SECONDS = env.int("LOGIN_ADDRESS_LOCK_SECONDS", default=15 * 60)
# Number of proxies in front of the app whose X-Forwarded-For we trust (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Fictional UAI codes accepted although their check letter is wrong (samples, demo, tests).
UAI_FICTIONAL = env.list("UAI_FICTIONAL", default=["0999999X"])

# --- Sessions -------------------------------------------------------------------------------
# "Mémoriser ce choix : Non" (public computer): the session ends with the browser and after
# this many idle seconds. "Oui": the session lasts the working day unless logged out.
PUBLIC_SESSION_IDLE_SECONDS = env.int("PUBLIC_SESSION_IDLE_SECONDS", default=20 * 60)
PRIVATE_SESSION_SECONDS = env.int("PRIVATE_SESSION_SECONDS", default=12 * 3600)
# How long the "mémoriser ce choix" cookie keeps the profile and level.
PORTAL_CHOICE_COOKIE_DAYS = env.int("PORTAL_CHOICE_COOKIE_DAYS", default=365)
SESSION_COOKIE_AGE = PRIVATE_SESSION_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Cookies are Secure whenever the site is served over HTTPS (always, in production). The demo on
# http://127.0.0.1 cannot use Secure cookies; SECURE_COOKIES=true forces them.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=SITE_IS_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SITE_IS_HTTPS:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SITE_IS_HTTPS else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only what the app itself serves: no CDN, no third-party asset (pages are used by minors).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

# --- E-mail ---------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:587/?tls=True, smtp+ssl://…, consolemail://, or
# "outbox:" (default): messages are kept in the database and shown by the demo at /demo/outbox/.
_email_url = env.str("EMAIL_URL", default="outbox:")
if _email_url.startswith("outbox:"):
    EMAIL_BACKEND = "cartable.demo.mail.OutboxBackend"
else:
    vars().update(env.email_url_config(_email_url))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cartable <ne-pas-repondre@cartable.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# AGPL-3.0 section 13: users of a modified Cartable over the network must be offered its source.
# Every page's footer links to this address (set it to your fork's public repository).
SOURCE_CODE_URL = env.str("SOURCE_CODE_URL", default="")

# --- Delivery of e-mails and SMS (cartable.delivery) ------------------------------------------
# With a broker (CELERY_BROKER_URL=redis://127.0.0.1:6379/1) a Celery worker delivers; without
# one (demo), messages are delivered in the web process right after the commit. Either way the
# scheduled `deliver_outbox` (or Celery beat) delivers whatever a crash left pending.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    "deliver-outbox": {"task": "cartable.delivery.deliver", "schedule": 60.0},
    # Every night at 3:00 (Europe/Paris), as the README's cron line.
    "expire-accounts": {"task": "cartable.activation.expire_accounts", "schedule": crontab(hour=3, minute=0)},
    "prune-outbox": {"task": "cartable.delivery.prune", "schedule": crontab(hour=3, minute=30)},
    "purge-cas-tickets": {"task": "cartable.sso.purge_tickets", "schedule": crontab(hour=3, minute=45)},
    # Expired OpenID Connect tokens and grants (django-oauth-toolkit's `cleartokens`).
    "clear-oidc-tokens": {"task": "cartable.oidc.clear_tokens", "schedule": crontab(hour=4, minute=0)},
}
# Without a broker, deliver from a background thread of the web process (False: during the
# request, as the tests do for determinism).
DELIVERY_IN_BACKGROUND = env.bool("DELIVERY_IN_BACKGROUND", default=True)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=300)
# Sent and abandoned messages (which hold addresses and texts) are deleted after this many days.
DELIVERY_RETENTION_DAYS = env.int("DELIVERY_RETENTION_DAYS", default=30)
# SMS_URL: unset/"outbox:" keeps SMS in the outbox (demo); https://user:token@gateway/send posts
# {"to", "text"} as JSON to a generic HTTP gateway.
SMS_URL = env.str("SMS_URL", default="outbox:")
SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", default=10)

# --- National identity (issue 4) -------------------------------------------------------------
# Self-registration ("Je n'ai pas de compte"): SMS codes that may be sent for one registration
# (the first one included) before the person must contact their établissement.
REGISTRATION_MAX_CODES = env.int("REGISTRATION_MAX_CODES", default=3)
# Failed registrations (no match, wrong code, wrong birth date) allowed per client address and
# per mobile number within REGISTRATION_LOCK_SECONDS.
REGISTRATION_MAX_FAILURES = env.int("REGISTRATION_MAX_FAILURES", default=5)
REGISTRATION_LOCK_SECONDS = env.int("REGISTRATION_LOCK_SECONDS", default=3600)
# A started registration (session) stays usable this long.
REGISTRATION_FLOW_SECONDS = env.int("REGISTRATION_FLOW_SECONDS", default=3600)
# FranceConnect (OpenID Connect). With no issuer or client id the button is hidden.
# FRANCECONNECT_ISSUER is the provider's issuer URL (its /.well-known/openid-configuration is read).
FRANCECONNECT_ISSUER = env.str("FRANCECONNECT_ISSUER", default="").rstrip("/")
FRANCECONNECT_CLIENT_ID = env.str("FRANCECONNECT_CLIENT_ID", default="")
FRANCECONNECT_CLIENT_SECRET = env.str("FRANCECONNECT_CLIENT_SECRET", default="")
FRANCECONNECT_SCOPES = env.str("FRANCECONNECT_SCOPES", default="openid given_name family_name birthdate email")
FRANCECONNECT_ACR_VALUES = env.str("FRANCECONNECT_ACR_VALUES", default="eidas1")
FRANCECONNECT_TIMEOUT_SECONDS = env.int("FRANCECONNECT_TIMEOUT_SECONDS", default=10)

# Single sign-on: the CAS 3.0 server (cartable.sso). Unvalidated service and proxy tickets expire
# after SSO_TICKET_SECONDS (the CAS specification recommends at most 5 minutes); proxy-granting
# tickets die at logout or after SSO_PGT_SECONDS. Callbacks (pgtUrl, single logout) get
# SSO_CALLBACK_TIMEOUT_SECONDS each, so a dead partner never holds a login or a logout.
SSO_TICKET_SECONDS = env.int("SSO_TICKET_SECONDS", default=300)
SSO_PGT_SECONDS = env.int("SSO_PGT_SECONDS", default=12 * 3600)
SSO_CALLBACK_TIMEOUT_SECONDS = env.float("SSO_CALLBACK_TIMEOUT_SECONDS", default=3.0)

# --- OpenID Connect provider (cartable.oidc, django-oauth-toolkit) and mobile API (cartable.api) --
# OIDC_ISSUER: the provider's public address (discovery at OIDC_ISSUER/.well-known/openid-configuration).
OIDC_ISSUER = env.str("OIDC_ISSUER", default=f"{SITE_URL}/oidc").rstrip("/")
# Signing key of ID tokens (RS256, published in the JWKS): OIDC_RSA_PRIVATE_KEY (PEM) or
# OIDC_RSA_PRIVATE_KEY_FILE; the demo generates one into var/ once (cartable.oidc.keys).
OIDC_RSA_PRIVATE_KEY = oidc_keys.rsa_private_key(  # used by DOT through OAUTH2_PROVIDER below
    env.str("OIDC_RSA_PRIVATE_KEY", default=""), env.str("OIDC_RSA_PRIVATE_KEY_FILE", default=""), VAR_DIR
)
# Key of the per-client pairwise `sub` (cartable.oidc.claims): OIDC_PAIRWISE_KEY (or
# OIDC_PAIRWISE_KEY_FILE), else generated into var/. Changing it changes every subject
# identifier partner services know: keep it with the database backups.
OIDC_PAIRWISE_KEY = oidc_keys.pairwise_key(
    env.str("OIDC_PAIRWISE_KEY", default=""), env.str("OIDC_PAIRWISE_KEY_FILE", default=""), VAR_DIR
)
# Lifetimes (seconds): access token, refresh token (counted from its access token's expiry),
# authorization code.
OIDC_ACCESS_TOKEN_SECONDS = env.int("OIDC_ACCESS_TOKEN_SECONDS", default=10 * 60)
OIDC_REFRESH_TOKEN_SECONDS = env.int("OIDC_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600)
OIDC_CODE_SECONDS = env.int("OIDC_CODE_SECONDS", default=60)
# Schemes allowed in clients' redirect URIs: https (http too while the site itself is http, for
# the demo); a mobile app's private-use scheme (fr.exemple.app) is added here.
OIDC_REDIRECT_URI_SCHEMES = env.list(
    "OIDC_REDIRECT_URI_SCHEMES", default=["https"] if SITE_IS_HTTPS else ["https", "http"]
)
# DOT's models are swappable; Django's migrations need the setting named even when not swapped.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": OIDC_ISSUER,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "OAUTH2_VALIDATOR_CLASS": "cartable.oidc.validators.CartableValidator",
    "SCOPES_BACKEND_CLASS": "cartable.oidc.scopes.CartableScopes",
    "SCOPES": {},  # unused: cartable.oidc.scopes names the scopes (French descriptions)
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,  # for every client, confidential ones included
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, never "plain"
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # bearer tokens in the header only
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # tokens stored as digests only
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # `iss` in the code's redirect (RFC 9207)
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": OIDC_ACCESS_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": OIDC_ACCESS_TOKEN_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": OIDC_REFRESH_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": OIDC_CODE_SECONDS,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed refresh token revokes its whole family
    # Client secrets: 64 random characters, hashed with a fast hasher (cartable.oidc.hashers:
    # a slow password hash cost 300 ms of CPU per token request and buys nothing here).
    "CLIENT_SECRET_GENERATOR_LENGTH": 64,
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "ALLOWED_REDIRECT_URI_SCHEMES": OIDC_REDIRECT_URI_SCHEMES,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,  # a valid id_token_hint logs out at once
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": True,
}

# --- Demo -----------------------------------------------------------------------------------
# The demo pages (/demo/outbox/) exist only when DEMO=true (set by `make demo`).
DEMO = env.bool("DEMO", default=False)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "cartable" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded exports can be large (a lycée's Responsables file is tens of MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
