import datetime
import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from certification import services
from certification.models import Certificate, SerialCounter

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    # Letter-spaced headings come out with spaces between the characters: compare without whitespace.
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.split())


def test_issue_renders_once_and_stores_pdf_with_its_hash(decided_evaluation, settings):
    certificate = services.certificate_issue(evaluation_id=decided_evaluation.pk)

    data = certificate.pdf.read()
    assert data.startswith(b"%PDF")
    assert certificate.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    assert "王秀英" in text
    assert "护理员星级证书" in text
    assert certificate.serial_number in text
    assert certificate.star_level == 2
    assert certificate.status == Certificate.Status.VALID
    assert certificate.holder_national_id_masked in text
    assert certificate.verification_code in text
    assert certificate.verify_url == f"{settings.SITE_URL}/verify/{certificate.verification_code}/"


def test_issuing_again_returns_the_same_certificate_without_rendering(decided_evaluation, monkeypatch):
    first = services.certificate_issue(evaluation_id=decided_evaluation.pk)

    def must_not_render(certificate):
        raise AssertionError("rendered a second time")

    monkeypatch.setattr(services, "certificate_render_pdf", must_not_render)
    second = services.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert second.pk == first.pk
    assert Certificate.objects.count() == 1


def test_one_certificate_per_decision_is_a_database_constraint(decided_evaluation):
    from django.db import IntegrityError, transaction

    certificate = services.certificate_issue(evaluation_id=decided_evaluation.pk)
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
        pdf=certificate.pdf.name,
        pdf_sha256=certificate.pdf_sha256,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def stored_pdfs() -> set[str]:
    storage = Certificate._meta.get_field("pdf").storage
    return {str(path) for path in Path(storage.location).rglob("*.pdf")}


def test_serial_numbers_run_without_gaps_and_survive_a_failed_render(decided_evaluation, monkeypatch):
    year = datetime.date.today().year
    files_before = stored_pdfs()
    assert services.serial_number_next(region="140500", year=year) == f"140500-{year}-000001"

    def broken_render(certificate):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(services, "certificate_render_pdf", broken_render)
    with pytest.raises(RuntimeError):
        services.certificate_issue(evaluation_id=decided_evaluation.pk)
    # Nothing half-issued: no row, no file, and the number was handed back.
    assert Certificate.objects.count() == 0
    assert SerialCounter.objects.get(region="140500", year=year).last_value == 1
    assert stored_pdfs() == files_before

    monkeypatch.undo()
    certificate = services.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert certificate.serial_number == f"140500-{year}-000002"


def test_a_failure_after_the_file_is_stored_removes_the_file(decided_evaluation, monkeypatch):
    stored = []
    original_save = Certificate.save

    def failing_save(self, *args, **kwargs):
        stored.append(self.pdf.name)
        raise RuntimeError("database went away")

    monkeypatch.setattr(Certificate, "save", failing_save)
    with pytest.raises(RuntimeError):
        services.certificate_issue(evaluation_id=decided_evaluation.pk)
    monkeypatch.setattr(Certificate, "save", original_save)
    assert stored and not Certificate._meta.get_field("pdf").storage.exists(stored[0])
    assert Certificate.objects.count() == 0


def test_the_issue_is_in_the_audit_log(decided_evaluation):
    from wagtail.models import ModelLogEntry

    certificate = services.certificate_issue(evaluation_id=decided_evaluation.pk)
    entry = ModelLogEntry.objects.for_instance(certificate).get()
    assert entry.action == "carestar.certificate.issue"
    assert entry.data["serial_number"] == certificate.serial_number


def test_expired_certificates_are_marked(decided_evaluation):
    certificate = services.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert services.certificates_mark_expired(today=certificate.valid_until) == 0
    assert services.certificates_mark_expired(today=certificate.valid_until + datetime.timedelta(days=1)) == 1
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.EXPIRED


def test_the_decision_queues_issuance_after_commit(
    qualified_caregiver, passed_exam, assessor, rules, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        evaluation = services.evaluation_record(
            assessor=assessor, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=2
        )
    assert len(callbacks) == 1
    # CELERY_TASK_ALWAYS_EAGER in the test settings: the callback ran the task in-process.
    assert Certificate.objects.get(evaluation=evaluation).star_level == 2
