"""The site's pages carry a Content-Security-Policy that allows no inline script; the admin is left out."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_pages_forbid_inline_script_and_foreign_resources(client, certificate):
    for url in ("/verify/", f"/verify/{certificate.verification_code}/", "/accounts/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'", url
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'self'", url


def test_the_admin_is_left_out(client, administrator):
    client.force_login(administrator)
    assert "Content-Security-Policy" not in client.get("/admin/login/")


def test_no_front_end_template_has_inline_script_or_event_handlers():
    """What the policy would block: every template outside the admin's keeps scripts in static files."""
    offending = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if "/admin/" in str(path) or "wagtailadmin" in str(path):
            continue
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            offending.append(str(path))
    assert offending == []
