"""A render that crashes leaves nothing issued, no file and no number lost; the retry issues the certificate once.

The rule for numbers (certification/certificates/serials.py): a number is taken in the transaction that inserts
its pending certificate and stays bound to that row. A crash after that (render, signature, storage) leaves the row
pending, unseen by the public, and the retry completes it with the same number. So every number up to the counter
belongs to exactly one certificate, and a number is missing from the public register only while it is pending.
"""

import re
import time

import pytest
from django.utils import timezone

from certification.certificates import services as certificates
from certification.certificates.serials import serial_format, serial_scope
from certification.certificates.tasks import certificate_issue_task
from certification.models import Certificate, CertificateBatchItem, CertificateTemplate, SerialCounter
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for, stored_pdfs

LEVEL = 2


def _numbers_held() -> list[str]:
    """Every number the counter has given, each with the one certificate row that holds it."""
    year = timezone.localdate().year
    counter = SerialCounter.objects.get(scope=serial_scope(year=year, level=LEVEL))
    expected = [serial_format(year=year, level=LEVEL, sequence=n) for n in range(1, counter.last_value + 1)]
    assert sorted(Certificate.objects.values_list("serial_number", flat=True)) == expected
    return expected


def _crash_for(monkeypatch, evaluation_ids: set[int]):
    real_render = certificates.certificate_render

    def render(certificate, **kwargs):
        if certificate.evaluation_id in evaluation_ids:
            raise RuntimeError("renderer crashed")
        return real_render(certificate, **kwargs)

    monkeypatch.setattr(certificates, "certificate_render", render)
    return real_render


@pytest.mark.django_db
def test_a_crashed_render_leaves_a_pending_number_that_the_retry_completes_once(
    client, assessor, rules, monkeypatch, django_capture_on_commit_callbacks
):
    crashing = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="刘淑珍"), assessor=assessor, rule_set=rules
    )
    other = decided_evaluation_for(caregiver=CaregiverFactory(user__name="陈玉梅"), assessor=assessor, rule_set=rules)
    files_before = stored_pdfs()
    real_render = _crash_for(monkeypatch, {crashing.pk})

    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True) as notices:
        certificates.certificate_issue(evaluation_id=crashing.pk)
    pending = Certificate.objects.get(evaluation=crashing)
    assert pending.status == Certificate.Status.PENDING and not pending.pdf and not pending.pdf_sha256
    assert stored_pdfs() == files_before and notices == []
    assert client.get(f"/verify/{pending.verification_code}.json").status_code == 404
    assert not Certificate.objects.issued().exists()

    # Another decision issued meanwhile takes the next number: the crashed one keeps its own, so no number is lost.
    issued_meanwhile = certificates.certificate_issue(evaluation_id=other.pk)
    assert _numbers_held() == [pending.serial_number, issued_meanwhile.serial_number]

    monkeypatch.setattr(certificates, "certificate_render", real_render)
    with django_capture_on_commit_callbacks(execute=True):
        retried = certificates.certificate_issue(evaluation_id=crashing.pk)
        again = certificates.certificate_issue(evaluation_id=crashing.pk)
    assert retried.pk == again.pk == pending.pk
    assert retried.serial_number == pending.serial_number and retried.status == Certificate.Status.VALID
    assert len(stored_pdfs() - files_before) == 2
    assert client.get(f"/verify/{pending.verification_code}.json").json()["is_valid"] is True
    assert _numbers_held() == sorted([retried.serial_number, issued_meanwhile.serial_number])


@pytest.mark.django_db
def test_a_crashed_render_in_a_batch_fails_its_item_alone_and_the_chunk_retry_issues_it_once(
    assessor, rules, administrator, monkeypatch
):
    evaluations = [
        decided_evaluation_for(caregiver=CaregiverFactory(user__name=name), assessor=assessor, rule_set=rules)
        for name in ("刘淑珍", "陈玉梅", "杨春燕")
    ]
    files_before = stored_pdfs()
    batch = certificates.certificate_batch_create(actor=administrator, name="渲染故障批次")
    items = list(batch.items.order_by("pk"))
    real_render = _crash_for(monkeypatch, {items[1].evaluation_id})

    assert certificates.certificate_batch_items_process(item_ids=[item.pk for item in items]) == [items[1].pk]
    stuck = CertificateBatchItem.objects.get(pk=items[1].pk)
    assert stuck.certificate is None and stuck.error == ""
    assert Certificate.objects.get(evaluation_id=stuck.evaluation_id).status == Certificate.Status.PENDING
    assert Certificate.objects.issued().count() == 2
    files = stored_pdfs()
    assert len(files - files_before) == 2

    monkeypatch.setattr(certificates, "certificate_render", real_render)
    assert certificates.certificate_batch_items_process(item_ids=[items[1].pk]) == []
    assert certificates.certificate_batch_items_process(item_ids=[items[1].pk]) == []
    assert Certificate.objects.issued().count() == Certificate.objects.count() == 3
    assert len(stored_pdfs() - files) == 1
    assert len(_numbers_held()) == 3
    assert {e.pk for e in evaluations} == set(Certificate.objects.values_list("evaluation_id", flat=True))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_render_crashing_in_a_real_worker_issues_nothing_until_its_retry_issues_it_once(client, workers):
    from tests.factories.accounts import AssessorFactory
    from tests.factories.certification import rule_set

    evaluation = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="赵秀英", user__phone="13900000001"),
        assessor=AssessorFactory().user,
        rule_set=rule_set(),
    )
    # A statement that slipped past the template's check (written straight to the database): the renderer raises
    # on the unknown placeholder, in the worker, on the real render path.
    template = CertificateTemplate.objects.create(name="损坏的模板", is_active=True, statement="兹证明 {holder}")
    files_before = stored_pdfs()
    worker = workers()
    task_id = certificate_issue_task.delay(evaluation.pk).id

    deadline = time.monotonic() + 60
    while not re.search(rf"certificate_issue_task\[{task_id}\] retry: .*KeyError", worker.output()):
        assert time.monotonic() < deadline, f"no failed render within 60 s:\n{worker.output()[-3000:]}"
        time.sleep(0.1)
    pending = Certificate.objects.get(evaluation=evaluation)
    assert pending.status == Certificate.Status.PENDING and not pending.pdf
    assert stored_pdfs() == files_before
    assert client.get(f"/verify/{pending.verification_code}.json").status_code == 404
    assert _numbers_held() == [pending.serial_number]

    CertificateTemplate.objects.filter(pk=template.pk).update(statement=CertificateTemplate().statement)
    deadline = time.monotonic() + 60
    while not Certificate.objects.filter(pk=pending.pk, status=Certificate.Status.VALID, notified_at__isnull=False):
        assert time.monotonic() < deadline, f"the retry did not issue within 60 s:\n{worker.output()[-3000:]}"
        time.sleep(0.1)

    issued = Certificate.objects.get(evaluation=evaluation)
    assert (issued.pk, issued.serial_number) == (pending.pk, pending.serial_number)
    assert stored_pdfs() - files_before == {issued.pdf.path}
    assert client.get(f"/verify/{issued.verification_code}.json").json()["is_valid"] is True
    assert _numbers_held() == [issued.serial_number]
    assert sum(issued.serial_number in line for line in worker.output().splitlines() if "SMS to" in line) == 1
