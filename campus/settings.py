"""Kampus settings, read from the environment in this one module.

Every variable is documented in README.md ("Configuration"). Nothing here has a production
default for a secret: with DEBUG off, SECRET_KEY must be set.
"""

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean environment variable ``name``; refuse values that are not booleans."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_list(name: str, default: str = "") -> list[str]:
    """Return the comma-separated environment variable ``name`` as a list without blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string (DEBUG=1 allows a development key)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Public base URL used in e-mails and API `next` links when no request is at hand.
KAMPUS_BASE_URL = os.environ.get("KAMPUS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The domain in every iCalendar UID (booking-12@DOMAIN): set it once and keep it, or every
# subscribed calendar sees all events replaced. Defaults to the host of KAMPUS_BASE_URL.
KAMPUS_ICAL_UID_DOMAIN = os.environ.get("KAMPUS_ICAL_UID_DOMAIN", "") or (
    urlsplit(KAMPUS_BASE_URL).hostname or "kampus.invalid"
)

INSTALLED_APPS = [
    "modeltranslation",  # translated reference data (campus/translation.py); before the admin
    "campus.admin_site.KampusAdminConfig",  # django.contrib.admin with entry by membership
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "ninja",  # serves its bundled Swagger UI for /api/v1/docs (no CDN)
    "django_q",
    "axes",
    "campus",
    "bookings",
    "sensors",
    "utilisation",
    "api",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "campus.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every answer gets a request id, a log line and a count (operations/; docs/deployment.md).
    "operations.middleware.RequestLogMiddleware",
    # /healthz and /metrics answer before anything that needs the database or a session.
    "operations.middleware.OperationsEndpointsMiddleware",
    # 503 while the database is unreachable, before the first middleware that reads it.
    "campus.middleware.DatabaseOutageMiddleware",
    # Before the session: a NUL in the session cookie must not reach the session store.
    "campus.middleware.RequestInputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the user's profile language comes before cookie and Accept-Language.
    "campus.middleware.UserLocaleMiddleware",
    "campus.middleware.CampusTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "campus.urls"
WSGI_APPLICATION = "campus.wsgi.application"
ASGI_APPLICATION = "campus.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campus.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: a SQLite file next to manage.py. WAL lets readers run beside the writer,
# the busy timeout lets web and worker wait for each other, and IMMEDIATE transactions take the
# write lock at BEGIN so the booking overlap check cannot race (see ARCHITECTURE.md).
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
# A kept connection (60 s) is checked before each request uses it (CONN_HEALTH_CHECKS), so after a
# database outage the next request reconnects by itself; an unreachable server fails fast.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")
    )
# PostgreSQL: the statements every booking request runs are prepared once per connection
# (campus/sql_rows.py); switch off behind a pooler that gives each transaction another server
# connection (PgBouncer's transaction pooling), where a prepared statement is not found again.
KAMPUS_DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "campus.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The throttle comes first: it refuses locked-out sign-ins before any password is checked.
AUTHENTICATION_BACKENDS = [
    "campus.sign_in_throttle.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campus:home"
LOGOUT_REDIRECT_URL = "campus:home"

# --- Sensors: the MQTT ingester (manage.py ingest_mqtt) and the checks of every reading ----------
# docs/sensors.md. mqtt://[USER:PASSWORD@]HOST[:PORT] (mqtts:// for TLS).
MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
KAMPUS_MQTT_TOPIC_PREFIX = os.environ.get("MQTT_TOPIC_PREFIX", "kampus/sensors").strip("/")
# The ingester's client id names its persistent session on the broker: keep it stable. Empty: kampus-ingester-<host>.
KAMPUS_MQTT_CLIENT_ID = os.environ.get("MQTT_CLIENT_ID", "")
# How long the broker keeps the ingester's session (and queues its messages) while it is away.
KAMPUS_MQTT_SESSION_EXPIRY_SECONDS = int(os.environ.get("MQTT_SESSION_EXPIRY_SECONDS", str(7 * 24 * 3600)))
# A batch is written when it holds this many messages, or when its oldest has waited this long.
KAMPUS_INGEST_BATCH_SIZE = int(os.environ.get("INGEST_BATCH_SIZE", "500"))
KAMPUS_INGEST_FLUSH_SECONDS = float(os.environ.get("INGEST_FLUSH_SECONDS", "0.5"))
KAMPUS_SENSOR_MAX_PAYLOAD_BYTES = int(os.environ.get("SENSOR_MAX_PAYLOAD_BYTES", "65536"))
KAMPUS_SENSOR_MAX_FUTURE_SECONDS = int(os.environ.get("SENSOR_MAX_FUTURE_SECONDS", "300"))
KAMPUS_SENSOR_MAX_AGE_DAYS = int(os.environ.get("SENSOR_MAX_AGE_DAYS", "7"))
# A count above factor × the room's capacity + extra is refused as absurd.
KAMPUS_SENSOR_COUNT_LIMIT_FACTOR = int(os.environ.get("SENSOR_COUNT_LIMIT_FACTOR", "3"))
KAMPUS_SENSOR_COUNT_LIMIT_EXTRA = int(os.environ.get("SENSOR_COUNT_LIMIT_EXTRA", "10"))
# Raw readings and dead letters older than this are deleted every night; 0 keeps them.
KAMPUS_SENSOR_READING_RETENTION_DAYS = int(os.environ.get("SENSOR_READING_RETENTION_DAYS", "400"))
KAMPUS_SENSOR_DEAD_LETTER_RETENTION_DAYS = int(os.environ.get("SENSOR_DEAD_LETTER_RETENTION_DAYS", "90"))
# A sensor silent this long is marked offline and its room's facility managers are told once; 0: never.
KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES = int(os.environ.get("SENSOR_OFFLINE_AFTER_MINUTES", "30"))
# The room page shows a reading as the room's current occupancy while it is at most this old.
KAMPUS_SENSOR_FRESH_MINUTES = int(os.environ.get("SENSOR_FRESH_MINUTES", "15"))

# --- Utilisation (docs/metrics.md) ---------------------------------------------------------
# A reading holds until the next one of its sensor, but at most this long; after that data is missing.
KAMPUS_READING_GAP_MINUTES = int(os.environ.get("READING_GAP_MINUTES", "10"))
# A 15-minute slot is "in use" when occupied, and "booked" when booked, for at least this many minutes.
KAMPUS_SLOT_IN_USE_MINUTES = int(os.environ.get("SLOT_IN_USE_MINUTES", "5"))
KAMPUS_SLOT_BOOKED_MINUTES = int(os.environ.get("SLOT_BOOKED_MINUTES", "5"))
# A slot with data for less than this share of its 15 minutes is unknown, never empty.
KAMPUS_SLOT_MIN_COVERAGE = float(os.environ.get("SLOT_MIN_COVERAGE", "0.5"))
# When a definition room days depend on changed, a rollup run counts them again a week at a time until
# this many seconds from its start (at least a week a run); under the background jobs' 30 s timeout.
KAMPUS_ROOM_DAYS_SECONDS = float(os.environ.get("ROOM_DAYS_SECONDS", "15"))
# A booking with no presence in its first this-many minutes is a no-show (and auto-released when live).
KAMPUS_NO_SHOW_MINUTES = int(os.environ.get("NO_SHOW_MINUTES", "15"))
# Check-in opens this many minutes before a booking's start (docs/check-in.md).
KAMPUS_CHECK_IN_EARLY_MINUTES = int(os.environ.get("CHECK_IN_EARLY_MINUTES", "10"))
# This many started occurrences of a series in a row released as no-shows tell the booker and the deciders.
KAMPUS_NO_SHOW_STREAK = int(os.environ.get("NO_SHOW_STREAK", "3"))
# Rating bands of a rate: below the first "poor", below the second "fair", otherwise "good".
KAMPUS_RATING_BANDS = (
    float(os.environ.get("RATING_FAIR_FROM", "0.25")),
    float(os.environ.get("RATING_GOOD_FROM", "0.35")),
)
# A report over more days than this is computed by a background job, and the API answers 202 with its progress.
KAMPUS_REPORT_SYNC_MAX_DAYS = int(os.environ.get("REPORT_SYNC_MAX_DAYS", "120"))

# --- Background jobs: django-q2 (docs/deployment.md "Processes") ------------------------------
# Empty: the jobs are queued in the database (the ORM broker; no extra service). redis://HOST:6379/DB:
# queued in Redis, for several worker hosts whose polling of one database table would not keep up.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r}: use redis://HOST:6379/DB, rediss:// (TLS) or unix://PATH.")
# Names the queue (the Redis key django_q:<name>:q, or the database queue's key) and salts the signing of
# jobs: every process of one installation needs the same; two installations sharing a Redis need different ones.
KAMPUS_QUEUE_NAME = os.environ.get("KAMPUS_QUEUE_NAME", "kampus").strip()
if not re.fullmatch(r"[A-Za-z0-9_-]+", KAMPUS_QUEUE_NAME):
    raise ImproperlyConfigured(f"KAMPUS_QUEUE_NAME={KAMPUS_QUEUE_NAME!r}: use letters, digits, - and _.")
Q_CLUSTER = {
    "name": KAMPUS_QUEUE_NAME,
    "workers": int(os.environ.get("KAMPUS_WORKERS", "2")),
    "timeout": 30,
    "retry": 60,
    "max_attempts": 5,
    "catch_up": False,
    "label": "Background jobs",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "fi")
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day-month (Django's own ``en`` formats are American): campus/formats/en/formats.py.
FORMAT_MODULE_PATH = ["campus.formats"]
USE_I18N = True
USE_TZ = True
# Server default zone; each campus has its own zone, activated per request by the middleware.
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Helsinki")
LANGUAGE_COOKIE_NAME = "kampus_language"
# Reference data (equipment, holiday names, closure reasons) has a column per language
# (campus/translation.py); an empty translation falls back to Finnish, then to any filled one.
MODELTRANSLATION_DEFAULT_LANGUAGE = "fi"
MODELTRANSLATION_LANGUAGES = ("fi", "sv", "en")
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("fi", "sv", "en")}
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("KAMPUS_MANIFEST_STATIC", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail (console by default; set EMAIL_URL-style variables in production) ----------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kampus <kampus@localhost>")

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    # Switch off behind a TLS-terminating proxy that already redirects plain HTTP.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if not SECURE_SSL_REDIRECT:
        # Switched off on purpose: the TLS-terminating proxy redirects plain HTTP (docs/deployment.md).
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Behind a proxy that appends the client's address to X-Forwarded-For (deploy/nginx.conf): use it
# for sign-in throttling. Only when clients cannot reach Kampus past the proxy.
KAMPUS_TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)

# --- Sign-in throttling (django-axes; campus/sign_in_throttle.py) -------------------------------
# Failed sign-ins are counted per username and per address; either refuses sign-in at its limit
# until AXES_COOLOFF_MINUTES have passed since the last failure.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
# An address gets more room: a school's people may all sign in from one NAT address.
KAMPUS_SIGN_IN_ADDRESS_LIMIT = int(os.environ.get("AXES_ADDRESS_FAILURE_LIMIT", "50"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "campus.sign_in_throttle.SignInThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "campus.sign_in_throttle.client_ip_address"
AXES_LOCKOUT_CALLABLE = "campus.sign_in_throttle.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# A successful sign-in would also clear its address's count: one's own account must not reset it.
AXES_RESET_ON_SUCCESS = False

# --- API ---------------------------------------------------------------------------------------
# A form or JSON body over this is answered 413 naming the limit (campus/views_errors.py); file uploads
# have their own limits (a calendar file: 2 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated
KAMPUS_API_MAX_LIMIT = 1000
NINJA_PAGINATION_MAX_LIMIT = KAMPUS_API_MAX_LIMIT
NINJA_PAGINATION_PER_PAGE = 100

# --- Operations: /healthz, /metrics, logs (docs/deployment.md "Health and metrics") ---------------
# /metrics answers only to `Authorization: Bearer <token>`; empty: /metrics is off. The token also
# shows /healthz's detail (the ingesters by client id, the database's error).
KAMPUS_METRICS_TOKEN = os.environ.get("KAMPUS_METRICS_TOKEN", "")
# Load balancers and Prometheus may ask over plain HTTP on the private side of the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# "text" (readable lines) or "json" (one JSON object per line: time, level, logger, message,
# request_id, and for each request method, path, status, duration_ms).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use text or json.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "operations.log_format.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {"()": "operations.log_format.JsonFormatter"},
    },
    # The level on the handler too: records of Django's own loggers propagate to it whatever the root's level.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every failed sign-in as a warning; its info lines only repeat them.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Public-sector notices (accessibility statement, privacy notice) -----------------------------
KAMPUS_CONTROLLER_NAME = os.environ.get("KAMPUS_CONTROLLER_NAME", "")
KAMPUS_PRIVACY_CONTACT = os.environ.get("KAMPUS_PRIVACY_CONTACT", "tietosuoja@example.org")
KAMPUS_ACCESSIBILITY_CONTACT = os.environ.get("KAMPUS_ACCESSIBILITY_CONTACT", "saavutettavuus@example.org")

# --- Retention of bookings' personal data (bookings/retention.py, docs/deployment.md#retention) -----
# Days after its end a booking loses its personal data (booker, on-behalf person, title, description,
# reasons, the people in its audit log); the anonymous booking stays for the utilisation figures. 0: never.
KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS = int(os.environ.get("BOOKING_ANONYMISE_AFTER_DAYS", "730"))
# Days after its end a booking is deleted with its audit log and its no-show record (the 15-minute room
# slots stay). 0 (the default): anonymous bookings are kept.
KAMPUS_BOOKING_DELETE_AFTER_DAYS = int(os.environ.get("BOOKING_DELETE_AFTER_DAYS", "0"))
for _name, _days in (
    ("BOOKING_ANONYMISE_AFTER_DAYS", KAMPUS_BOOKING_ANONYMISE_AFTER_DAYS),
    ("BOOKING_DELETE_AFTER_DAYS", KAMPUS_BOOKING_DELETE_AFTER_DAYS),
):
    if _days < 0:
        raise ImproperlyConfigured(f"{_name}={_days}: give a number of days, 0 or more (0: never).")
