import datetime
import hashlib
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from certification.certificates import services as certificates
from certification.models import Certificate, SerialCounter
from tests.factories.certification import evaluation_through_workflow, stored_pdfs
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


def test_issue_renders_once_and_stores_pdf_with_its_hash(decided_evaluation, settings):
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)

    data = certificate.pdf.read()
    assert data.startswith(b"%PDF")
    assert certificate.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    for expected in ("王秀英", "护理员星级证书", certificate.serial_number, certificate.holder_national_id_masked):
        assert expected in text
    assert certificate.verification_code in text
    assert certificate.star_level == 2
    assert certificate.status == Certificate.Status.VALID
    assert certificate.verify_url == f"{settings.SITE_URL}/verify/{certificate.verification_code}/"


def test_issuing_again_returns_the_same_certificate_without_rendering(decided_evaluation, monkeypatch):
    first = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)

    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered a second time")

    monkeypatch.setattr(certificates, "certificate_render", must_not_render)
    second = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert second.pk == first.pk
    assert Certificate.objects.count() == 1


def test_one_certificate_per_decision_is_a_database_constraint(decided_evaluation):
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    duplicate = Certificate(
        evaluation=decided_evaluation,
        caregiver=certificate.caregiver,
        serial_number="X-1",
        verification_code="other-code",
        holder_name=certificate.holder_name,
        holder_national_id_masked=certificate.holder_national_id_masked,
        star_level=certificate.star_level,
        issuer=certificate.issuer,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_crash_while_rendering_leaves_nothing_public_and_the_retry_keeps_the_number(decided_evaluation, monkeypatch):
    year = datetime.date.today().year
    files_before = stored_pdfs()
    real_render = certificates.certificate_render

    def broken_render(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(certificates, "certificate_render", broken_render)
    with pytest.raises(RuntimeError):
        certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    pending = Certificate.objects.get()
    assert pending.status == Certificate.Status.PENDING
    assert not pending.pdf and stored_pdfs() == files_before
    assert not Certificate.objects.issued().exists()

    monkeypatch.setattr(certificates, "certificate_render", real_render)
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert certificate.pk == pending.pk
    assert certificate.serial_number == f"140500-{year}-000001"
    assert certificate.status == Certificate.Status.VALID
    assert SerialCounter.objects.get(scope=f"140500-{year}-#").last_value == 1


def test_a_failure_after_the_file_is_stored_removes_the_file(decided_evaluation, monkeypatch):
    files_before = stored_pdfs()

    def failing_log(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(certificates, "log", failing_log)
    with pytest.raises(RuntimeError):
        certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert stored_pdfs() == files_before
    assert Certificate.objects.get().status == Certificate.Status.PENDING


def test_serial_numbers_run_on_without_gaps(decided_evaluation, second_decided_evaluation):
    year = datetime.date.today().year
    first = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    second = certificates.certificate_issue(evaluation_id=second_decided_evaluation.pk)
    assert [first.serial_number, second.serial_number] == [f"140500-{year}-000001", f"140500-{year}-000002"]


def test_the_issue_is_in_the_audit_log(decided_evaluation):
    from wagtail.models import ModelLogEntry

    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    entry = ModelLogEntry.objects.for_instance(certificate).get()
    assert entry.action == "carestar.certificate.issue"
    assert entry.data["serial_number"] == certificate.serial_number


def test_expired_certificates_are_marked(decided_evaluation):
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert certificates.certificates_mark_expired(today=certificate.valid_until) == 0
    assert certificates.certificates_mark_expired(today=certificate.valid_until + datetime.timedelta(days=1)) == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED


def test_the_decision_queues_issuance_after_commit(
    qualified_caregiver, passed_exam, assessor, reviewer, administrator, rules, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        evaluation = evaluation_through_workflow(
            caregiver=qualified_caregiver, assessor=assessor, reviewer=reviewer, administrator=administrator, level=2
        )
    assert len(callbacks) >= 1
    # CELERY_TASK_ALWAYS_EAGER in the test settings: the callback ran the task in-process.
    assert Certificate.objects.get(evaluation=evaluation).status == Certificate.Status.VALID


def test_a_new_decision_supersedes_the_holders_valid_certificate(
    decided_evaluation, assessor, reviewer, administrator, django_capture_on_commit_callbacks
):
    first = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    with django_capture_on_commit_callbacks(execute=False):
        upgrade = evaluation_through_workflow(
            caregiver=decided_evaluation.caregiver,
            assessor=assessor,
            reviewer=reviewer,
            administrator=administrator,
            level=2,
        )
    second = certificates.certificate_issue(evaluation_id=upgrade.pk)
    first.refresh_from_db()
    assert first.status == Certificate.Status.SUPERSEDED
    assert second.predecessor == first
    assert first.successor == second


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_on_one_decision_make_one_certificate(race_evaluation):
    files_before = stored_pdfs()
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(certificates.certificate_issue(evaluation_id=race_evaluation.pk).pk)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(set(results)) == 1
    certificate = Certificate.objects.get()
    assert certificate.status == Certificate.Status.VALID
    # The losing render's file is removed: one file for one certificate.
    assert len(stored_pdfs() - files_before) == 1


def test_a_decision_overtaken_before_issue_gets_no_certificate(qualified_caregiver, assessor, rules):
    from tests.factories.certification import decided_evaluation_for

    older = decided_evaluation_for(caregiver=qualified_caregiver, assessor=assessor, rule_set=rules, level=1)
    newer = decided_evaluation_for(caregiver=qualified_caregiver, assessor=assessor, rule_set=rules, level=2)
    current = certificates.certificate_issue(evaluation_id=newer.pk)
    assert certificates.certificate_issue(evaluation_id=older.pk) is None
    assert list(Certificate.objects.values_list("pk", flat=True)) == [current.pk]
    assert current.status == Certificate.Status.VALID
