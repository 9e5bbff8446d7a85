"""Simplified Chinese is the default language and must be complete."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCE_DIRS = ["accounts", "content", "training", "certification", "config", "templates", "locale"]


def msgfmt_statistics(po_file: Path) -> str:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stderr.strip()


def test_the_chinese_catalogue_is_complete():
    statistics = msgfmt_statistics(PO_FILE)
    assert "translated messages" in statistics
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics


def test_every_string_in_the_source_is_in_the_catalogue(tmp_path):
    # Extract afresh into a copy of the tree: a string added without a translation shows up as untranslated.
    for name in SOURCE_DIRS:
        shutil.copytree(Path(settings.BASE_DIR) / name, tmp_path / name)
    shutil.copy(Path(settings.BASE_DIR) / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.test", "VAR_DIR": str(tmp_path)},
    )
    statistics = msgfmt_statistics(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics


@pytest.mark.django_db
def test_pages_speak_chinese_by_default_and_english_on_request(client, settings):
    assert "验证" in client.get("/verify/").content.decode()
    # A browser set to English still gets the Chinese service...
    assert "验证" in client.get("/verify/", headers={"accept-language": "en-US,en"}).content.decode()
    # ...until its user picks English with the switcher.
    client.post("/i18n/setlang/", {"language": "en", "next": "/verify/"})
    assert "Verify a certificate" in client.get("/verify/").content.decode()
