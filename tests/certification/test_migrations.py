"""Certification's migrations are one straight line, and a database made by the migrations they replaced
(0001 … 0007, with two initials and two 0003s) keeps working: it counts them as applied and has the same schema
as a database migrated from nothing.

tests/data/database-0007.sql.gz is a SQLite dump of a database made by those migrations.
"""

import gzip
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(settings.BASE_DIR)
DUMP = Path(__file__).resolve().parent.parent / "data" / "database-0007.sql.gz"


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="config.settings.test")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _shape(database: Path) -> dict:
    """Per certification table: columns, check constraints, foreign keys and indexes; and the triggers."""
    connection = sqlite3.connect(database)
    shape = {}
    tables = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'certification_%'"
    ).fetchall()
    for name, sql in tables:
        indexes = {
            (row[1], row[2], tuple(column[2] for column in connection.execute(f'PRAGMA index_info("{row[1]}")')))
            for row in connection.execute(f'PRAGMA index_list("{name}")')
            if not row[1].startswith("sqlite_autoindex")
        }
        shape[name] = (
            {tuple(row[1:]) for row in connection.execute(f'PRAGMA table_info("{name}")')},
            set(re.findall(r'CONSTRAINT "(\w+)" CHECK', sql)),
            {tuple(row[2:5]) for row in connection.execute(f'PRAGMA foreign_key_list("{name}")')},
            indexes,
        )
    shape["triggers"] = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    connection.close()
    return shape


def test_the_migrations_are_a_straight_line():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    nodes = sorted(name for app, name in graph.nodes if app == "certification")
    assert nodes == [
        "0001_squashed_0006_star_evaluation_workflow",
        "0002_decided_evaluations_immutable",
        "0003_private_holder_random_status_index",
        "0004_serial_counter_scope",
        "0005_certificate_holder_photo",
    ]
    assert graph.leaf_nodes("certification") == [("certification", "0005_certificate_holder_photo")]


def test_a_database_made_by_the_replaced_migrations_needs_nothing_more(tmp_path):
    existing = tmp_path / "existing.sqlite3"
    connection = sqlite3.connect(existing)
    connection.executescript(gzip.decompress(DUMP.read_bytes()).decode())
    connection.close()
    fresh = tmp_path / "fresh.sqlite3"

    plan = _manage(existing, "migrate", "--plan")
    migrated = _manage(existing, "migrate", "--noinput")
    from_nothing = _manage(fresh, "migrate", "--noinput")

    assert plan.returncode == 0, plan.stderr
    # Only what came after the squash: none of the replaced migrations runs again.
    planned = [
        step
        for step in re.findall(r"^(\w+)\.(\w+)$", plan.stdout, re.MULTILINE)
        if step[0] in {"accounts", "certification"}
    ]
    assert planned == [
        ("accounts", "0002_credential_subject"),
        ("accounts", "0003_caregiver_photo"),
        ("accounts", "0004_national_id_digest_column"),
        ("accounts", "0005_national_id_encrypt"),
        ("accounts", "0006_national_id_encrypted_field"),
        ("certification", "0003_private_holder_random_status_index"),
        ("certification", "0004_serial_counter_scope"),
        ("certification", "0005_certificate_holder_photo"),
    ], plan.stdout
    assert migrated.returncode == 0, migrated.stderr
    assert from_nothing.returncode == 0, from_nothing.stderr
    assert _shape(existing) == _shape(fresh)
    assert "certification_evaluation_decided_immutable" in _shape(fresh)["triggers"]


OLD_CERTIFICATE = """
import datetime
from django.db import connection
from django.db.migrations.loader import MigrationLoader

old = MigrationLoader(connection).project_state(
    [("accounts", "0001_initial"), ("certification", "0002_decided_evaluations_immutable")]
).apps
county = old.get_model("accounts", "County").objects.create(code="140502", name="城区")
institution = old.get_model("accounts", "Institution").objects.create(
    code="JC-1", name="晋城护理院", kind="nursing_home", county=county
)
users = old.get_model("accounts", "User").objects
caregiver = old.get_model("accounts", "CaregiverProfile").objects.create(
    user=users.create(username="wang", name="王秀英", role="caregiver"),
    gender="F",
    national_id="14050219700101002X",
    institution=institution,
    employed_since=datetime.date(2020, 1, 1),
)
rule_set = old.get_model("certification", "StarRuleSet").objects.create(
    name="规则", version="1", effective_from=datetime.date(2026, 1, 1)
)
evaluation = old.get_model("certification", "Evaluation").objects.create(
    caregiver=caregiver, assessor=users.create(username="assessor", role="assessor"), rule_set=rule_set
)
old.get_model("certification", "Certificate").objects.create(
    pk=41,
    evaluation=evaluation,
    caregiver=caregiver,
    status="valid",
    serial_number="140500-2026-000001",
    verification_code="code-1",
    holder_name="王秀英",
    holder_national_id_masked="140502********002X",
    holder_identity_salt="salt",
    holder_identity_hash="sha256$" + "0" * 64,
    star_level=2,
    issuer="晋城市医疗保障局",
    issued_on=datetime.date(2026, 6, 1),
    valid_until=datetime.date(2029, 6, 1),
)
"""


def test_certificates_issued_before_keep_their_status_bit_and_get_their_holders_subject(tmp_path):
    """0003 drops the salted identity hash; a certificate already issued keeps the bit its credential names."""
    database = tmp_path / "before.sqlite3"
    for step in (("migrate", "certification", "0002", "--noinput"), ("shell", "-c", OLD_CERTIFICATE)):
        done = _manage(database, *step)
        assert done.returncode == 0, done.stderr
    done = _manage(database, "migrate", "--noinput")
    assert done.returncode == 0, done.stderr

    connection = sqlite3.connect(database)
    columns = {row[1] for row in connection.execute('PRAGMA table_info("certification_certificate")')}
    index, subject = connection.execute(
        "SELECT status_list_index, holder_subject FROM certification_certificate"
    ).fetchone()
    (credential_subject,) = connection.execute("SELECT credential_subject FROM accounts_caregiverprofile").fetchone()
    connection.close()
    assert index == 41
    assert subject == credential_subject and len(subject) == 32  # a UUID, as SQLite stores it
    assert not {"holder_identity_salt", "holder_identity_hash"} & columns
