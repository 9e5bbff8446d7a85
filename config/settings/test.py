"""The pytest suite: fast hashing, throw-away media and broker folders, tasks run inline unless a test
starts a real worker (see tests/conftest.py)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

SECRET_KEY = "test-secret-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

_scratch = Path(tempfile.mkdtemp(prefix="carestar-test-"))
MEDIA_ROOT = _scratch / "media"
PRIVATE_MEDIA_ROOT = _scratch / "private"
STORAGES["certificates"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT / "certificates"  # noqa: F405
STORAGES["imports"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT / "imports"  # noqa: F405
STORAGES["photos"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT / "photos"  # noqa: F405
CELERY_BEAT_SCHEDULE_FILENAME = str(_scratch / "celerybeat-schedule")
# A private embedded broker, started by the tests that run a real worker (tests/conftest.py).
BROKER_DATA_DIR = _scratch / "broker"
if "CELERY_BROKER_URL" not in os.environ:
    CELERY_BROKER_URL = f"redis+socket://{BROKER_DATA_DIR / 'redis.sock'}"
# Unit tests run tasks in-process when their transaction commits; the end-to-end tests switch this off and
# start a real worker on the configured broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the live server and the Celery worker threads open their own connections.
    DATABASES["default"]["TEST"] = {"NAME": str(_scratch / "test.sqlite3")}  # noqa: F405

SITE_URL = "http://testserver"
WAGTAILADMIN_BASE_URL = SITE_URL
OPENBADGES_CREATE_KEY = True
PDF_SIGNING_CREATE = True
NATIONAL_ID_DERIVE_KEYS = True
PDF_SIGNING_DIR = _scratch / "keys"
OPENBADGES_SIGNING_KEY_FILE = _scratch / "keys" / "openbadges-ed25519.pem"
VERIFY_RATE_LIMIT_PER_MINUTE = 10_000  # tests that check the limit lower it themselves
