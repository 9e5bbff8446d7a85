import io
import zipfile
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from certification.certificates import selectors
from certification.certificates import services as certificates
from certification.models import Certificate, CertificateBatchItem
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_decisions(assessor, rules):
    caregivers = [CaregiverFactory(user__name=name) for name in ("刘淑珍", "陈玉梅", "杨春燕")]
    return [decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules) for caregiver in caregivers]


def test_a_batch_issues_every_pending_decision_with_progress(
    three_decisions, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        batch = certificates.certificate_batch_create(actor=administrator, name="第一批")
    progress = selectors.certificate_batch_progress(batch=batch)
    assert progress == {"total": 3, "issued": 3, "failed": 0, "pending": 0, "percent": 100, "done": True}
    assert Certificate.objects.issued().count() == 3


def test_a_batch_travels_in_chunks_and_notifies_each_chunk_at_once(
    three_decisions, administrator, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from certification.certificates import tasks

    settings.CERTIFICATE_BATCH_CHUNK = 2
    chunk_task = mock.Mock()
    monkeypatch.setattr(tasks.certificate_batch_items_task, "delay", chunk_task)
    with django_capture_on_commit_callbacks(execute=True):
        batch = certificates.certificate_batch_create(actor=administrator, name="分块")
    chunks = [call.args[0] for call in chunk_task.call_args_list]
    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert sorted(sum(chunks, [])) == sorted(batch.items.values_list("pk", flat=True))

    notify = mock.Mock()
    monkeypatch.setattr(tasks.certificates_notify_task, "delay", notify)
    assert certificates.certificate_batch_items_process(item_ids=chunks[0]) == []
    (notified,) = notify.call_args.args
    assert sorted(notified) == sorted(
        CertificateBatchItem.objects.filter(pk__in=chunks[0]).values_list("certificate_id", flat=True)
    )


def test_a_chunk_delivered_again_sends_the_notices_its_dead_worker_never_queued(
    three_decisions, administrator, monkeypatch
):
    from certification.certificates import tasks

    batch = certificates.certificate_batch_create(actor=administrator, name="重新投递")
    item_ids = sorted(batch.items.values_list("pk", flat=True))
    notify = mock.Mock()
    monkeypatch.setattr(tasks.certificates_notify_task, "delay", notify)
    # The first delivery's worker issued the first item and died before the chunk's notices left.
    certificates.certificate_batch_item_process(item_id=item_ids[0], notify=False)

    assert certificates.certificate_batch_items_process(item_ids=item_ids) == []
    (notified,) = notify.call_args.args
    assert sorted(notified) == sorted(Certificate.objects.values_list("pk", flat=True))
    for certificate_id in notified:
        certificates.certificate_notify(certificate_id=certificate_id)

    # Everyone told: a third delivery queues no notice.
    certificates.certificate_batch_items_process(item_ids=item_ids)
    assert notify.call_count == 1


def test_a_failing_item_is_retried_alone(three_decisions, administrator, monkeypatch):
    batch = certificates.certificate_batch_create(actor=administrator, name="重试")
    items = list(batch.items.order_by("pk"))
    real_issue = certificates.certificate_issue
    broken = items[1].evaluation_id

    def flaky(*, evaluation_id, notify=True):
        if evaluation_id == broken:
            raise ConnectionError("storage unavailable")
        return real_issue(evaluation_id=evaluation_id, notify=notify)

    monkeypatch.setattr(certificates, "certificate_issue", flaky)
    assert certificates.certificate_batch_items_process(item_ids=[item.pk for item in items]) == [items[1].pk]
    assert selectors.certificate_batch_progress(batch=batch)["issued"] == 2
    monkeypatch.setattr(certificates, "certificate_issue", real_issue)
    assert certificates.certificate_batch_items_process(item_ids=[items[1].pk]) == []
    assert selectors.certificate_batch_progress(batch=batch)["done"]


def test_a_batch_skips_decisions_that_have_their_certificate(three_decisions, administrator):
    certificates.certificate_issue(evaluation_id=three_decisions[0].pk)
    batch = certificates.certificate_batch_create(actor=administrator, name="补发")
    assert batch.items.count() == 2
    for item in batch.items.all():
        certificates.certificate_batch_item_process(item_id=item.pk)
    with pytest.raises(ValidationError):
        certificates.certificate_batch_create(actor=administrator, name="空批次")


def test_a_name_no_font_can_print_fails_its_item_only(assessor, rules, administrator):
    good = decided_evaluation_for(caregiver=CaregiverFactory(user__name="王秀英"), assessor=assessor, rule_set=rules)
    bad = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="王\U0010fffd"), assessor=assessor, rule_set=rules
    )
    batch = certificates.certificate_batch_create(actor=administrator, name="含生僻字")
    for item in batch.items.all():
        certificates.certificate_batch_item_process(item_id=item.pk)
    progress = selectors.certificate_batch_progress(batch=batch)
    assert (progress["issued"], progress["failed"]) == (1, 1)
    assert "\U0010fffd" in CertificateBatchItem.objects.get(evaluation=bad).error
    assert not Certificate.objects.issued().filter(evaluation=bad).exists()
    assert Certificate.objects.issued().filter(evaluation=good).exists()


def test_batch_admin_pages_and_zip(client, three_decisions, administrator, django_capture_on_commit_callbacks):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert client.get("/admin/certificate_batches/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/certificate_batches/", {"name": "城区第一批"})
    batch_url = response["Location"]
    detail = client.get(batch_url).content.decode()
    assert "3 / 3" in detail.replace("3 of 3", "3 / 3") or "3" in detail
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(batch_url + "zip/").streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 3
    serials = sorted(f"{serial}.pdf" for serial in Certificate.objects.values_list("serial_number", flat=True))
    assert names == serials
    first = Certificate.objects.get(serial_number=names[0][:-4])
    assert archive.read(names[0]) == first.pdf.open("rb").read()


def test_batch_admin_is_for_administrators(client, assessor):
    client.force_login(assessor)
    assert client.get("/admin/certificate_batches/").status_code == 302


def test_the_batch_list_costs_the_same_with_one_or_many_batches(client, three_decisions, administrator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certification.models import CertificateBatch

    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)

    def queries() -> int:
        client.get("/admin/certificate_batches/")
        with CaptureQueriesContext(connection) as context:
            assert client.get("/admin/certificate_batches/").status_code == 200
        return len(context.captured_queries)

    certificates.certificate_batch_create(actor=administrator, name="第一批")
    one = queries()
    for number in range(5):
        CertificateBatch.objects.create(name=f"批次{number}", created_by=administrator)
    assert queries() == one


def test_a_second_batch_leaves_items_still_waiting_in_the_first(three_decisions, administrator):
    first = certificates.certificate_batch_create(actor=administrator, name="第一批")
    certificates.certificate_batch_item_process(item_id=first.items.first().pk)
    with pytest.raises(ValidationError):
        certificates.certificate_batch_create(actor=administrator, name="重复")
    assert first.items.count() == 3
