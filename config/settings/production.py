"""Production: every secret must come from the environment; start-up fails without it."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set in production.")
    return value


SECRET_KEY = required("SECRET_KEY")
ALLOWED_HOSTS = required("ALLOWED_HOSTS").split(",")
SITE_URL = required("SITE_URL").rstrip("/")
# The embedded broker is for one machine; production names its Redis.
CELERY_BROKER_URL = required("CELERY_BROKER_URL")
# Rate limits must be shared by every server process: a per-process cache would multiply them.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": required("CACHE_URL")}}
WAGTAILADMIN_BASE_URL = SITE_URL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HTTPS only: plain HTTP is redirected, and browsers are told to come back over HTTPS for a year.
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
# CareStar runs on a host of its own (e.g. carestar.ybj.example.gov.cn): its subdomains are its own too.
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("SECURE_HSTS_PRELOAD", "1") == "1"
# Wagtail's page preview shows the page in a frame of the admin itself, so frames stay allowed from the same
# origin (X_FRAME_OPTIONS = "SAMEORIGIN") and Django's advice to deny them all is silenced on purpose.
SILENCED_SYSTEM_CHECKS = ["security.W019"]
# Certificates are signed by the issuer's own key; a local CA is for development only.
if not (PDF_SIGNING_PKCS12_FILE or PDF_SIGNING_PKCS11_MODULE):  # noqa: F405
    raise ImproperlyConfigured(
        "Certificates must be signed in production: set PDF_SIGNING_PKCS12_FILE (and PDF_SIGNING_PKCS12_PASSWORD) "
        "or PDF_SIGNING_PKCS11_MODULE (see README, Configuration)."
    )
