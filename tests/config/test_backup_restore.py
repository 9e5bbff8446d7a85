"""A backup (scripts/backup.sh: the PostgreSQL dump, the files, the keys) restored by scripts/restore.sh into a fresh
database and fresh directories verifies every certificate exactly as the original did (docs/backup.md)."""

import io
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from certification.certificates import services as certificates
from certification.certificates.verification import Verdict
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for
from tests.processes import ROOT, database_url, project_env

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="backup.sh and restore.sh work on PostgreSQL (pg_dump); CI's second run has it",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _lines(output: str) -> dict[str, dict]:
    results = [json.loads(line) for line in output.splitlines() if line.strip()]
    return {result["serial_number"]: result for result in results}


def _script(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _major(version_line: str) -> int:
    return int(re.search(r"\(PostgreSQL\) (\d+)", version_line).group(1))


@pytest.fixture
def fresh_database():
    name = f"carestar_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url({**connection.settings_dict, "NAME": name})
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def register(assessor, rules, administrator):
    """Certificates in each state a verifier can meet: valid, revoked, and superseded by its re-issue."""
    issued = [
        certificates.certificate_issue(
            evaluation_id=decided_evaluation_for(
                caregiver=CaregiverFactory(user__name=name), assessor=assessor, rule_set=rules
            ).pk
        )
        for name in ("刘淑珍", "陈玉梅", "杨春燕")
    ]
    certificates.certificate_revoke(certificate=issued[1], actor=administrator, reason="材料不实")
    certificates.certificate_reissue(certificate=issued[2], actor=administrator, reason="更正姓名")
    return issued


def test_a_restored_backup_verifies_every_certificate_as_the_original_did(client, register, fresh_database, tmp_path):
    server = connection.cursor().connection.info.server_version // 10000
    for tool in ("pg_dump", "pg_restore"):
        version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
        assert _major(version) >= server, f"{version.strip()} cannot handle a PostgreSQL {server} server"

    output = io.StringIO()
    call_command("certificates_verify", stdout=output, stderr=io.StringIO())
    before = _lines(output.getvalue())
    assert len(before) == 4
    assert {result["file"]["verdict"] for result in before.values()} == {Verdict.GENUINE, Verdict.GENUINE_NOT_IN_FORCE}
    assert all(result["signed_by_platform_key"] and result["credential_verifies"] for result in before.values())
    for result in before.values():
        published = client.get(f"/verify/{result['verification_code']}.json").json()
        labels = {"status_label", "message"}  # worded in the page's language, not the command's
        assert {k: v for k, v in published.items() if k not in labels} == {
            k: v for k, v in result["record"].items() if k not in labels
        }

    backup = tmp_path / "backup"
    made = _script("backup.sh", str(backup), env=project_env())
    assert made.returncode == 0, made.stderr
    assert _lines((backup / "certificates.jsonl").read_text()) == before

    restored = tmp_path / "restored"
    elsewhere = project_env(
        DATABASE_URL=fresh_database,
        VAR_DIR=str(restored),
        MEDIA_ROOT=str(restored / "media"),
        PRIVATE_MEDIA_ROOT=str(restored / "private"),
        PDF_SIGNING_DIR=str(restored / "keys"),
        OPENBADGES_SIGNING_KEY_FILE=str(restored / "keys" / "openbadges-ed25519.pem"),
        BROKER_DATA_DIR=str(restored / "broker"),
    )
    result = _script("restore.sh", str(backup), env=elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 verify as the backup recorded" in result.stdout

    # restore.sh verified every restored certificate with manage.py certificates_verify on the restored copy.
    report = re.search(r"verification of the restored certificates in (\S+)", result.stdout).group(1)
    assert _lines(Path(report).read_text()) == before
    Path(report).unlink()
    for serial in before:
        assert list((restored / "private" / "certificates").rglob(f"{serial}.pdf")), serial

    # Restoring over what is there is refused before anything is written.
    again = _script("restore.sh", str(backup), env=elsewhere)
    assert again.returncode == 1 and "already has" in again.stderr and "nothing was written" in again.stderr
