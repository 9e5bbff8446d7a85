"""Settings shared by every environment; safe for production as they stand.

Everything that differs between machines comes from environment variables, listed in the README.
`dev` and `test` relax what they must; `production` insists on the secrets.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp import constants as csp

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The public base address printed in QR codes and e-mails, e.g. https://carestar.example.gov.cn. By default the
# address `make run` serves on (HOST, PORT).
_serve_host = os.environ.get("HOST", "127.0.0.1")
_serve_host = "127.0.0.1" if _serve_host in {"", "0.0.0.0", "::"} else _serve_host
SITE_URL = os.environ.get("SITE_URL", f"http://{_serve_host}:{os.environ.get('PORT', '8000')}").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAIL_SITE_NAME = "CareStar 护理员培训与星级认证平台"

INSTALLED_APPS = [
    "accounts",
    "content",
    "training",
    "certification",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    # Wagtail's users app with CareStar's user screens (accounts.user_admin: resetting a second factor).
    "accounts.wagtail_users.UsersAppConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last: it turns a locked-out sign-in into its refusal page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'carestar.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the embedded database: take the write lock at the start
    # of a transaction instead of upgrading to it half-way, which SQLite answers with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes) on both sign-in pages, the site's and the admin's: after AXES_FAILURE_LIMIT
# wrong passwords for one account from one address, that pair is locked out for AXES_COOLOFF_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.signin_locked_out"
AXES_USERNAME_FORM_FIELD = "username"
# A second factor (a TOTP authenticator app, with single-use recovery codes) for these roles; superusers always.
# Until they have passed it, accounts.middleware.TwoFactorRequiredMiddleware sends them to enrol or to verify.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", "administrator,assessor")
OTP_TOTP_ISSUER = "CareStar"
# After each wrong code the next is refused for 1, 2, 4, 8 … seconds (django-otp's throttling, per device).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Certificate PDFs are personal data: they live outside MEDIA_ROOT's public URL space and are served by
# permission-checked views only.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "certificates": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT / "certificates", "base_url": None},
    },
    # Holders' photos (personal data): private, shown only through permission-checked views.
    "photos": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT / "photos", "base_url": None},
    },
    # Uploaded spreadsheets (rosters carry identity numbers): private, and deleted once imported.
    "imports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT / "imports", "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

# The audit log (Wagtail's log entries: who did what to which record) is kept this many days, then beat deletes
# it. Never under six months (183 days): a system check (carestar.E006) refuses to start below that.
AUDIT_LOG_RETENTION_DAYS = int(os.environ.get("AUDIT_LOG_RETENTION_DAYS", "1095"))

# Spreadsheet imports: files up to IMPORT_INLINE_MAX_BYTES are checked while the uploader waits; larger
# ones go to a Celery task that reports its progress. Nothing larger than IMPORT_MAX_BYTES is accepted.
IMPORT_INLINE_MAX_BYTES = int(os.environ.get("IMPORT_INLINE_MAX_BYTES", str(256 * 1024)))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(10 * 1024 * 1024)))
# An import deletes its upload however it ends; an upload still stored this long after it came (its worker died,
# its task was lost) is deleted by beat's hourly sweep and its import marked failed.
IMPORT_UPLOAD_MAX_HOURS = int(os.environ.get("IMPORT_UPLOAD_MAX_HOURS", "24"))
# Every importer reads through content.spreadsheets, which counts as it reads and refuses a file past any of
# these: the bytes an .xlsx unpacks to (a zip bomb), rows below the header (empty ones too), the columns values
# may reach, and the seconds reading may take. Nothing the file declares about its own size is believed.
IMPORT_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_BYTES", str(64 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "100000"))
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", "100"))
IMPORT_MAX_SECONDS = float(os.environ.get("IMPORT_MAX_SECONDS", "60"))
# The service-data API refuses a request body larger than this (HTTP 413) before reading it.
SERVICE_DATA_API_MAX_BYTES = int(os.environ.get("SERVICE_DATA_API_MAX_BYTES", str(5 * 1024 * 1024)))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CareStar <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
# Signed out after this long without a request (accounts.middleware.SessionIdleTimeoutMiddleware).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "SAMEORIGIN"

# Celery. The embedded default is a private Redis server on a Unix socket under $VAR_DIR/broker, started by
# `make run` (scripts/embedded-redis.sh) with every write synced to its append-only file. Redis keeps a
# delivered message until the worker acknowledges it and hands it out again if the worker dies, which neither
# kombu's filesystem transport (it half-reads files being written) nor its SQLAlchemy one (a delivered message
# is hidden for good) does; production points CELERY_BROKER_URL at its own Redis.
BROKER_DATA_DIR = Path(os.environ.get("BROKER_DATA_DIR", VAR_DIR / "broker"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"redis+socket://{BROKER_DATA_DIR / 'redis.sock'}")
# A task unacknowledged this long (its worker died) is delivered again; tasks are idempotent, so a slow one
# that overruns it costs a repeat, not a duplicate.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900")),
    # Look for the tasks of a dead worker every 10 s rather than every 100 s.
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Daily: the audit log's entries older than AUDIT_LOG_RETENTION_DAYS go.
    "audit-log-purge": {
        "task": "accounts.tasks.audit_log_purge_task",
        "schedule": 24 * 60 * 60,
    },
    # Hourly: spreadsheet uploads left behind by an import that never finished (see IMPORT_UPLOAD_MAX_HOURS).
    "import-uploads-sweep": {
        "task": "content.tasks.import_uploads_sweep_task",
        "schedule": 60 * 60,
    },
    "certificates-mark-expired": {
        "task": "certification.tasks.certificates_mark_expired_task",
        "schedule": 60 * 60,
    },
    "certificates-requeue-lost": {
        "task": "certification.tasks.certificates_requeue_lost_task",
        "schedule": 60,
    },
    "certificates-remind-expiring": {
        "task": "certification.tasks.certificates_remind_expiring_task",
        "schedule": 24 * 60 * 60,
    },
    "attempts-close-overdue": {
        "task": "certification.tasks.attempts_close_overdue_task",
        "schedule": 60,
    },
    "re-evaluations-remind-due": {
        "task": "certification.tasks.re_evaluation_due_remind_task",
        "schedule": 24 * 60 * 60,
    },
}

# Content-Security-Policy on every page of the site (django-csp): scripts, styles, fonts and images from the site
# itself only (inline style attributes allowed, never inline script), videos embedded from HTTPS sites, no
# plugins, no framing by other sites. Wagtail's admin is left out: it is not built to run under such a policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "media-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "frame-src": ["https:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.SELF],
    },
}

# Browser wallets and verifiers on other sites may read the public JSON documents (verification record, issuer,
# keys, achievements, status lists), without cookies; nothing else is shared across origins.
CORS_URLS_REGEX = r"^/(verify/[^/]+\.json|ob/.*)$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

# The certificate issuer, printed on every certificate and its verification page.
CERTIFICATE_ISSUER = os.environ.get("CERTIFICATE_ISSUER", "晋城市医疗保障局")
# Administrative division code that opens every serial number (晋城市 = 140500).
CERTIFICATE_REGION_CODE = os.environ.get("CERTIFICATE_REGION_CODE", "140500")
CERTIFICATE_VALIDITY_YEARS = int(os.environ.get("CERTIFICATE_VALIDITY_YEARS", "3"))
# Serial numbers (certification/certificates/serials.py): {region}, {year}, {level}, {issuer} and {sequence}.
CERTIFICATE_SERIAL_PATTERN = os.environ.get("CERTIFICATE_SERIAL_PATTERN", "{region}-{year}-{sequence:06d}")
# The issuer's own code, for {issuer} in the pattern (e.g. an organisation code).
CERTIFICATE_ISSUER_CODE = os.environ.get("CERTIFICATE_ISSUER_CODE", "")

WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Each failed sign-in is recorded in the database (django-axes' access attempts); the log needs no line.
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
    },
}

# The CJK font family certificates are set in; the start-up check refuses to run without it.
CERTIFICATE_FONT_FAMILY = os.environ.get("CERTIFICATE_FONT_FAMILY", "Noto Sans CJK SC")
# Fonts for characters the main family lacks (rare given names in CJK Extensions A and B), in order.
CERTIFICATE_FALLBACK_FONT_FAMILIES = env_list("CERTIFICATE_FALLBACK_FONT_FAMILIES", "HanaMinA,HanaMinB,BabelStone Han")

# Certificates of a batch per Celery message.
CERTIFICATE_BATCH_CHUNK = int(os.environ.get("CERTIFICATE_BATCH_CHUNK", "10"))
# Certificate work still undone this long after it was queued (a decision without its certificate, a pending
# certificate, a batch that has stopped moving, a notice not sent) is queued again by beat: the broker can lose a
# task whose worker is killed at the instant it takes it. Tasks are idempotent, so a repeat costs nothing more.
CERTIFICATE_REQUEUE_AFTER_SECONDS = int(os.environ.get("CERTIFICATE_REQUEUE_AFTER_SECONDS", "300"))
# Days before expiry on which holders and their managers are reminded.
CERTIFICATE_REMINDER_DAYS = [int(days) for days in env_list("CERTIFICATE_REMINDER_DAYS", "60,30")]
# SMS gateway: a class with send(*, phone, message). The default writes messages to the log.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "certification.notifications.LogSmsBackend")

# PAdES signatures on certificate PDFs (certification/certificates/signing.py): a PKCS#11 token, else a PKCS#12
# file, else (development and tests only) a local CA created under PDF_SIGNING_DIR. Production refuses to start
# without one of the first two.
PDF_SIGNING_DIR = Path(os.environ.get("PDF_SIGNING_DIR", VAR_DIR / "keys"))
PDF_SIGNING_CREATE = False
PDF_SIGNING_PKCS12_FILE = os.environ.get("PDF_SIGNING_PKCS12_FILE", "")
PDF_SIGNING_PKCS12_PASSWORD = os.environ.get("PDF_SIGNING_PKCS12_PASSWORD", "")
PDF_SIGNING_PKCS11_MODULE = os.environ.get("PDF_SIGNING_PKCS11_MODULE", "")
PDF_SIGNING_PKCS11_TOKEN = os.environ.get("PDF_SIGNING_PKCS11_TOKEN", "")
PDF_SIGNING_PKCS11_KEY_LABEL = os.environ.get("PDF_SIGNING_PKCS11_KEY_LABEL", "")
PDF_SIGNING_PKCS11_CERT_LABEL = os.environ.get("PDF_SIGNING_PKCS11_CERT_LABEL", "")
PDF_SIGNING_PKCS11_PIN = os.environ.get("PDF_SIGNING_PKCS11_PIN", "")
# An RFC 3161 time-stamp authority: signatures become PAdES B-T with long-term validation data embedded.
PDF_SIGNING_TSA_URL = os.environ.get("PDF_SIGNING_TSA_URL", "")
# Further trusted roots (PEM) for that validation data, such as the time-stamp authority's root.
PDF_SIGNING_TRUST_ROOTS_FILE = os.environ.get("PDF_SIGNING_TRUST_ROOTS_FILE", "")

# Open Badges 3.0: the platform's Ed25519 signing key (PEM, PKCS#8). Production refuses to create one itself.
OPENBADGES_SIGNING_KEY_FILE = Path(
    os.environ.get("OPENBADGES_SIGNING_KEY_FILE", VAR_DIR / "keys" / "openbadges-ed25519.pem")
)
OPENBADGES_CREATE_KEY = False

# Identity card numbers are kept encrypted (accounts/national_id_crypto.py). NATIONAL_ID_KEYS: Fernet keys,
# comma-separated; the first encrypts, all decrypt (README: Rotating the identity-number key). NATIONAL_ID_HASH_KEY:
# the key of the HMAC that finds a number and keeps it unique, a secret of its own. A system check refuses to run
# without them; `dev` and `test` derive stand-ins from SECRET_KEY where they are unset.
NATIONAL_ID_KEYS = env_list("NATIONAL_ID_KEYS")
NATIONAL_ID_HASH_KEY = os.environ.get("NATIONAL_ID_HASH_KEY", "")
NATIONAL_ID_DERIVE_KEYS = False

# Public verification lookups allowed per client address and minute.
VERIFY_RATE_LIMIT_PER_MINUTE = int(os.environ.get("VERIFY_RATE_LIMIT_PER_MINUTE", "30"))
# The reverse proxies in front of the web server (addresses or networks): the rate limit then counts the address
# they forward in X-Forwarded-For rather than their own.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# Shared cache (rate limits): Redis in production, process memory by default.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
