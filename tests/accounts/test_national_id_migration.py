"""accounts 0004–0006: a database with plaintext identity numbers comes out with Fernet tokens and digests, its
caregivers still found by number; migrated back, the plaintext returns. Each step runs `manage.py` in a process of
its own, as a deployment would (the test settings derive the same keys in every process)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

NUMBERS = ["14050219700101002X", "140502198001010011"]

OLD_CAREGIVERS = f"""
import datetime
from django.db import connection
from django.db.migrations.loader import MigrationLoader

old = MigrationLoader(connection).project_state([("accounts", "0003_caregiver_photo")]).apps
county = old.get_model("accounts", "County").objects.create(code="140502", name="城区")
institution = old.get_model("accounts", "Institution").objects.create(
    code="JC-1", name="晋城护理院", kind="elderly_care", county=county
)
users = old.get_model("accounts", "User").objects
for n, number in enumerate({NUMBERS!r}):
    old.get_model("accounts", "CaregiverProfile").objects.create(
        user=users.create(username=f"old{{n}}", name=f"老护理员{{n}}", role="caregiver"),
        gender="F",
        national_id=number,
        institution=institution,
        employed_since=datetime.date(2020, 1, 1),
    )
"""

LOOK_UP = """
from accounts.models import CaregiverProfile
for typed in ("14050219700101002x", "140502198001010011"):
    caregiver = CaregiverProfile.objects.select_related("user").with_national_id(typed).get()
    print(caregiver.user.username, caregiver.national_id)
"""


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="config.settings.test")
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _rows(database: Path) -> list[tuple]:
    connection = sqlite3.connect(database)
    columns = {row[1] for row in connection.execute('PRAGMA table_info("accounts_caregiverprofile")')}
    selected = "national_id, national_id_digest" if "national_id_digest" in columns else "national_id, NULL"
    rows = connection.execute(f"SELECT {selected} FROM accounts_caregiverprofile ORDER BY id").fetchall()
    connection.close()
    return rows


def test_plaintext_numbers_are_encrypted_found_and_restored_when_migrated_back(tmp_path):
    database = tmp_path / "before.sqlite3"
    _manage(database, "migrate", "accounts", "0003", "--noinput")
    _manage(database, "shell", "-c", OLD_CAREGIVERS)
    assert [number for number, _digest in _rows(database)] == NUMBERS

    _manage(database, "migrate", "--noinput")
    rows = _rows(database)
    dump = "\n".join(sqlite3.connect(database).iterdump())
    for number in NUMBERS:
        assert number not in dump and number[6:14] not in dump  # nor a birth date, anywhere in the database
    tokens, digests = zip(*rows, strict=True)
    assert all(token.startswith("gAAAAA") for token in tokens) and len(set(tokens)) == 2
    assert all(len(digest) == 64 for digest in digests) and len(set(digests)) == 2

    found = _manage(database, "shell", "--no-imports", "-c", LOOK_UP).stdout.split()
    assert found == ["old0", NUMBERS[0], "old1", NUMBERS[1]]

    _manage(database, "migrate", "accounts", "0003", "--noinput")
    assert _rows(database) == [(number, None) for number in NUMBERS]
