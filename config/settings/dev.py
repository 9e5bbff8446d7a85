"""Local development and `make run`: debug on, secrets with harmless defaults."""

import os

from .base import *  # noqa: F403
from .base import env_list

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key-not-for-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
OPENBADGES_CREATE_KEY = True
PDF_SIGNING_CREATE = True
NATIONAL_ID_DERIVE_KEYS = True

# The embedded database and files live here; a fresh VAR_DIR is made on first use.
VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
