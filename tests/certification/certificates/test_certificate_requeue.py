"""Beat queues again the certificate work whose task went missing, and only that work."""

import datetime

import pytest
from django.utils import timezone

from certification.certificates import services as certificates
from certification.certificates import tasks
from certification.models import Certificate, CertificateBatch
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db

NOTHING = {"pending": 0, "issue": 0, "withdraw": 0, "batch_items": 0, "notify": 0}


@pytest.fixture
def queued(monkeypatch):
    """What the service queues, per task, instead of sending it to the broker."""
    calls = {}
    for name in (
        "certificate_issue_task",
        "certificate_pending_complete_task",
        "certificate_batch_items_task",
        "certificate_notify_task",
    ):
        calls[name] = []
        monkeypatch.setattr(getattr(tasks, name), "delay", calls[name].append)
    return calls


def later(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def decision(name: str, *, assessor, rules):
    return decided_evaluation_for(caregiver=CaregiverFactory(user__name=name), assessor=assessor, rule_set=rules)


def test_a_decision_whose_task_was_lost_is_queued_again_once_the_wait_is_over(
    assessor, rules, queued, settings, django_capture_on_commit_callbacks
):
    settings.CERTIFICATE_REQUEUE_AFTER_SECONDS = 300
    evaluation = decision("刘淑珍", assessor=assessor, rules=rules)

    assert certificates.certificates_requeue_lost(now=later(4)) == NOTHING
    assert certificates.certificates_requeue_lost(now=later(6)) == {**NOTHING, "issue": 1}
    assert queued["certificate_issue_task"] == [evaluation.pk]

    # The repeat issues the one certificate with its one notice, and from then on there is nothing to do.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.certificate_issue_task(evaluation.pk)
        tasks.certificate_issue_task(evaluation.pk)
    (certificate,) = Certificate.objects.filter(evaluation=evaluation)
    assert queued["certificate_notify_task"] == [certificate.pk]
    tasks.certificate_notify_task(certificate.pk)
    assert certificates.certificates_requeue_lost(now=later(6)) == NOTHING


def test_a_decision_overtaken_by_a_later_one_is_not_queued(assessor, rules, queued):
    caregiver = CaregiverFactory(user__name="陈玉梅")
    decided_evaluation_for(
        caregiver=caregiver, assessor=assessor, rule_set=rules, decided_at=timezone.now() - datetime.timedelta(days=1)
    )
    latest = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=3)
    assert certificates.certificates_requeue_lost(now=later(10))["issue"] == 1
    assert queued["certificate_issue_task"] == [latest.pk]


def test_a_name_no_font_prints_is_left_to_its_correction(assessor, rules, queued):
    decision("王\U0010fffd", assessor=assessor, rules=rules)
    assert certificates.certificates_requeue_lost(now=later(10)) == NOTHING


def test_a_level_0_decision_whose_withdrawal_was_lost_is_queued_again(assessor, rules, queued):
    caregiver = CaregiverFactory(user__name="杨春燕")
    first = decided_evaluation_for(
        caregiver=caregiver, assessor=assessor, rule_set=rules, decided_at=timezone.now() - datetime.timedelta(days=1)
    )
    held = certificates.certificate_issue(evaluation_id=first.pk)
    downgrade = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=0)

    assert certificates.certificates_requeue_lost(now=later(10)) == {**NOTHING, "withdraw": 1, "notify": 1}
    assert queued["certificate_issue_task"] == [downgrade.pk]
    tasks.certificate_issue_task(downgrade.pk)
    held.refresh_from_db()
    assert held.status == Certificate.Status.REVOKED
    assert certificates.certificates_requeue_lost(now=later(10))["withdraw"] == 0


def test_a_pending_original_goes_round_as_itself_and_keeps_its_number(assessor, rules, monkeypatch, queued):
    evaluation = decision("赵秀英", assessor=assessor, rules=rules)
    real_render = certificates.certificate_render

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed while rendering")

    monkeypatch.setattr(certificates, "certificate_render", crash)
    with pytest.raises(RuntimeError):
        certificates.certificate_issue(evaluation_id=evaluation.pk)
    monkeypatch.setattr(certificates, "certificate_render", real_render)
    pending = Certificate.objects.get(evaluation=evaluation)

    assert certificates.certificates_requeue_lost(now=later(10)) == {**NOTHING, "pending": 1}
    assert queued["certificate_pending_complete_task"] == [pending.pk]
    assert tasks.certificate_pending_complete_task(pending.pk) == pending.serial_number
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.VALID and pending.pdf


def test_a_re_issue_left_pending_is_completed_and_supersedes_the_original(
    certificate, administrator, monkeypatch, queued
):
    real_render = certificates.certificate_render

    def crash(*args, **kwargs):
        raise RuntimeError("web server killed while rendering")

    monkeypatch.setattr(certificates, "certificate_render", crash)
    with pytest.raises(RuntimeError):
        certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="更正姓名")
    monkeypatch.setattr(certificates, "certificate_render", real_render)
    successor = Certificate.objects.get(predecessor=certificate)
    assert successor.status == Certificate.Status.PENDING

    assert certificates.certificates_requeue_lost(now=later(10))["pending"] == 1
    tasks.certificate_pending_complete_task(successor.pk)
    successor.refresh_from_db()
    certificate.refresh_from_db()
    assert successor.status == Certificate.Status.VALID
    assert certificate.status == Certificate.Status.SUPERSEDED
    assert certificate.status_reason == "更正姓名"


def test_a_batch_is_queued_again_only_once_it_has_stopped_moving(assessor, rules, administrator, queued, settings):
    settings.CERTIFICATE_BATCH_CHUNK = 2
    evaluations = [decision(name, assessor=assessor, rules=rules) for name in ("刘淑珍", "陈玉梅", "杨春燕")]
    batch = certificates.certificate_batch_create(actor=administrator, name="第一批")  # its chunks never reach a worker
    CertificateBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    first, *rest = batch.items.order_by("pk")
    certificates.certificate_batch_item_process(item_id=first.pk)

    # One item issued just now: the batch is moving, and its decisions are its own, not single issues.
    assert certificates.certificates_requeue_lost() == NOTHING

    assert certificates.certificates_requeue_lost(now=later(10)) == {**NOTHING, "batch_items": 2, "notify": 1}
    assert queued["certificate_batch_items_task"] == [[item.pk for item in rest]]
    tasks.certificate_batch_items_task(*queued["certificate_batch_items_task"])
    assert Certificate.objects.filter(evaluation__in=evaluations).count() == 3
    assert certificates.certificates_requeue_lost(now=later(10))["batch_items"] == 0


def test_a_notice_that_went_missing_is_sent_again_but_not_for_old_certificates(
    decided_evaluation, second_decided_evaluation, queued
):
    recent = certificates.certificate_issue(evaluation_id=decided_evaluation.pk, notify=False)
    old = certificates.certificate_issue(evaluation_id=second_decided_evaluation.pk, notify=False)
    Certificate.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))

    assert certificates.certificates_requeue_lost(now=later(10))["notify"] == 1
    assert queued["certificate_notify_task"] == [recent.pk]
    assert tasks.certificate_notify_task(recent.pk) is True
    assert certificates.certificates_requeue_lost(now=later(10))["notify"] == 0
