"""`manage.py certificates_verify`: every issued certificate verified as a verifier would, one JSON line each; a
missing or changed file, or keys that are not the ones it was issued with, fail it."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from certification.certificates import services as certificates
from certification.certificates.verification import Verdict
from certification.models import certificate_storage
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for
from tests.processes import manage, project_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(assessor, rules, administrator):
    made = [
        certificates.certificate_issue(
            evaluation_id=decided_evaluation_for(
                caregiver=CaregiverFactory(user__name=name), assessor=assessor, rule_set=rules
            ).pk
        )
        for name in ("刘淑珍", "陈玉梅")
    ]
    certificates.certificate_revoke(certificate=made[1], actor=administrator, reason="材料不实")
    return made


def verify() -> tuple[dict[str, dict], str, str]:
    output, errors = io.StringIO(), io.StringIO()
    failure = ""
    try:
        call_command("certificates_verify", stdout=output, stderr=errors)
    except CommandError as error:
        failure = str(error)
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    return {line["serial_number"]: line for line in lines}, errors.getvalue(), failure


def test_each_certificate_is_verified_as_the_public_sees_it(issued):
    lines, summary, failure = verify()
    valid, revoked = issued
    assert failure == "" and summary.strip() == "2 certificates: 1 genuine, 1 genuine_not_in_force"
    assert lines[valid.serial_number]["file"] == {
        "verdict": Verdict.GENUINE,
        "sha256": valid.pdf_sha256,
        "certificate": valid.serial_number,
        "signer": lines[valid.serial_number]["file"]["signer"],
    }
    assert lines[revoked.serial_number]["record"]["status"] == "revoked"
    assert lines[revoked.serial_number]["record"]["status_reason"] == "材料不实"
    assert all(line["signed_by_platform_key"] and line["credential_verifies"] for line in lines.values())


def test_a_missing_or_changed_file_fails_the_check(issued):
    valid, revoked = issued
    storage = certificate_storage()
    storage.delete(valid.pdf.name)
    with storage.open(revoked.pdf.name, "rb") as handle:
        data = handle.read()
    storage.delete(revoked.pdf.name)
    storage.save(revoked.pdf.name, io.BytesIO(data + b"\n% appended after signing\n"))

    lines, _summary, failure = verify()
    assert lines[valid.serial_number]["file"] == {"verdict": "missing"}
    assert lines[revoked.serial_number]["file"]["verdict"] == Verdict.MODIFIED
    assert failure.startswith("2 of 2 certificates do not verify")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_keys_other_than_the_issuers_fail_the_check(issued, tmp_path):
    """A restore without the backup's keys: development settings make new ones, and nothing verifies with them."""
    keyless = project_env(
        PDF_SIGNING_DIR=str(tmp_path / "new-keys"),
        OPENBADGES_SIGNING_KEY_FILE=str(tmp_path / "new-keys" / "openbadges-ed25519.pem"),
    )
    result = manage("certificates_verify", env=keyless)
    assert result.returncode == 1 and "2 of 2 certificates do not verify" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"]["verdict"] for line in lines] == [Verdict.GENUINE, Verdict.GENUINE_NOT_IN_FORCE]
    assert not any(line["signed_by_platform_key"] or line["credential_verifies"] for line in lines)
