"""Every task acknowledged late (CELERY_TASK_ACKS_LATE: the broker forgets a message only once its task has run, so
a worker's death sends it round again) is safe to run twice: the same message run a second time, as a redelivery
runs it, repeats no effect. A task that would repeat one is acknowledged early instead, with the reason beside it."""

import datetime
import os
import uuid

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import storages
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from accounts.tasks import audit_log_purge_task
from certification.certificates import services as certificates
from certification.certificates import tasks as certificate_tasks
from certification.evaluations import tasks as evaluation_tasks
from certification.exams import services as exam_services
from certification.exams.tasks import attempts_close_overdue_task
from certification.models import Certificate, Evaluation, ExamAttempt, StarLevelRule
from config.celery import app
from content import services as content_services
from content.models import Clause, ImportJob
from content.tasks import import_job_run_task, import_uploads_sweep_task
from tests.factories.accounts import CaregiverFactory, InstitutionFactory, manager_for
from tests.factories.certification import decided_evaluation_for, exam_with_questions, stored_pdfs
from tests.factories.content import StandardFactory
from tests.factories.content import administrator as content_administrator
from tests.factories.servicedata import incident
from tests.factories.spreadsheets import upload

pytestmark = pytest.mark.django_db

SHOWN_IDEMPOTENT: dict[str, str] = {}


def shows_idempotent(task_name: str):
    def register(test):
        SHOWN_IDEMPOTENT[task_name] = test.__name__
        return test

    return register


def delivered_twice(task, *args) -> list:
    """The task run twice on one message (one task id), as a redelivery runs it."""
    task_id = str(uuid.uuid4())
    return [task.apply(args=args, task_id=task_id).get() for _ in range(2)]


def holder(name: str, *, assessor, rules, **fields) -> Evaluation:
    caregiver = CaregiverFactory(user__name=name, user__email=f"{uuid.uuid4().hex[:8]}@example.org")
    return decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, **fields)


def test_every_task_acknowledged_late_is_shown_here_to_run_twice_harmlessly():
    app.loader.import_default_modules()
    late = {name for name, task in app.tasks.items() if not name.startswith("celery.") and task.acks_late}
    assert late == set(SHOWN_IDEMPOTENT)
    assert set(SHOWN_IDEMPOTENT.values()) <= set(globals())


def test_beats_recovery_job_is_acknowledged_before_it_runs():
    # Run twice it would queue every piece of lost work twice; lost, it runs again at the next minute anyway.
    assert certificate_tasks.certificates_requeue_lost_task.acks_late is False


@shows_idempotent("certification.tasks.certificate_issue_task")
def test_issue(assessor, rules, django_capture_on_commit_callbacks):
    evaluation = holder("刘淑珍", assessor=assessor, rules=rules)
    files_before = stored_pdfs()
    with django_capture_on_commit_callbacks(execute=True):
        first, second = delivered_twice(certificate_tasks.certificate_issue_task, evaluation.pk)
    certificate = Certificate.objects.get(evaluation=evaluation)
    assert first == second == certificate.serial_number
    assert stored_pdfs() - files_before == {certificate.pdf.path}
    assert [message.subject for message in mail.outbox] == [f"您的星级证书 {certificate.serial_number} 已签发"]


def render_killed(*args, **kwargs):
    raise OSError("worker killed while rendering")


@shows_idempotent("certification.tasks.certificate_pending_complete_task")
def test_pending_complete(assessor, rules, monkeypatch, django_capture_on_commit_callbacks):
    evaluation = holder("陈玉梅", assessor=assessor, rules=rules)
    with monkeypatch.context() as patched:
        patched.setattr(certificates, "certificate_render", render_killed)
        with pytest.raises(OSError):
            certificates.certificate_issue(evaluation_id=evaluation.pk)
    pending = Certificate.objects.get(evaluation=evaluation)
    files_before = stored_pdfs()

    with django_capture_on_commit_callbacks(execute=True):
        results = delivered_twice(certificate_tasks.certificate_pending_complete_task, pending.pk)
    certificate = Certificate.objects.get(evaluation=evaluation)
    assert results == [pending.serial_number] * 2 and certificate.status == Certificate.Status.VALID
    assert stored_pdfs() - files_before == {certificate.pdf.path}
    assert len(mail.outbox) == 1


@shows_idempotent("certification.tasks.certificate_notify_task")
def test_notify(assessor, rules):
    certificate = certificates.certificate_issue(
        evaluation_id=holder("杨春燕", assessor=assessor, rules=rules).pk, notify=False
    )
    assert delivered_twice(certificate_tasks.certificate_notify_task, certificate.pk) == [True, False]
    assert len(mail.outbox) == 1


@shows_idempotent("certification.tasks.certificates_notify_task")
def test_notify_many(assessor, rules):
    issued = [
        certificates.certificate_issue(evaluation_id=holder(name, assessor=assessor, rules=rules).pk, notify=False)
        for name in ("赵淑珍", "黄凤英")
    ]
    assert delivered_twice(certificate_tasks.certificates_notify_task, [c.pk for c in issued]) == [2, 0]
    assert sorted(message.to[0] for message in mail.outbox) == sorted(c.caregiver.user.email for c in issued)


@shows_idempotent("certification.tasks.certificate_batch_items_task")
def test_batch_items(assessor, rules, administrator, django_capture_on_commit_callbacks):
    evaluations = [holder(name, assessor=assessor, rules=rules) for name in ("周海燕", "吴红霞")]
    with django_capture_on_commit_callbacks(execute=False):  # the chunk's own message is the one run twice below
        batch = certificates.certificate_batch_create(actor=administrator, name="重复投递")
    item_ids = list(batch.items.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        delivered_twice(certificate_tasks.certificate_batch_items_task, item_ids)
    assert Certificate.objects.filter(evaluation__in=evaluations).count() == 2
    assert batch.items.filter(certificate__isnull=True).count() == 0
    assert len(mail.outbox) == 2


@shows_idempotent("certification.tasks.certificates_mark_expired_task")
def test_mark_expired(assessor, rules):
    certificate = certificates.certificate_issue(evaluation_id=holder("徐文静", assessor=assessor, rules=rules).pk)
    Certificate.objects.filter(pk=certificate.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert delivered_twice(certificate_tasks.certificates_mark_expired_task) == [1, 0]
    assert ModelLogEntry.objects.filter(action="carestar.certificate.expire").count() == 1


@shows_idempotent("certification.tasks.certificates_remind_expiring_task")
def test_remind_expiring(assessor, rules):
    certificate = certificates.certificate_issue(
        evaluation_id=holder("孙丽华", assessor=assessor, rules=rules).pk, notify=False
    )
    Certificate.objects.filter(pk=certificate.pk).update(valid_until=timezone.localdate() + datetime.timedelta(days=20))
    assert delivered_twice(certificate_tasks.certificates_remind_expiring_task) == [1, 0]
    assert len(mail.outbox) == 1 and certificate.serial_number in mail.outbox[0].subject


@shows_idempotent("certification.tasks.evaluation_notify_task")
def test_evaluation_notify(assessor, rules):
    evaluation = holder("马秀英", assessor=assessor, rules=rules)
    assert delivered_twice(evaluation_tasks.evaluation_notify_task, evaluation.pk) == [True, False]
    assert len(mail.outbox) == 1


@shows_idempotent("certification.tasks.re_evaluation_due_remind_task")
def test_re_evaluation_due_remind(assessor, rules):
    home = InstitutionFactory()
    manager_for(home, email="manager@example.org")
    decided_evaluation_for(
        caregiver=CaregiverFactory(institution=home, user__name="胡桂兰"),
        assessor=assessor,
        rule_set=rules,
        re_evaluation_due_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    assert delivered_twice(evaluation_tasks.re_evaluation_due_remind_task) == [1, 0]
    assert [message.to for message in mail.outbox] == [["manager@example.org"]]


@shows_idempotent("certification.tasks.service_data_downgrade_check_task")
def test_downgrade_check(decided_evaluation, qualified_caregiver, rules):
    StarLevelRule.objects.filter(rule_set=rules, level__in=[2, 3]).update(max_substantiated_complaints=0)
    incident(qualified_caregiver)
    first, second = delivered_twice(evaluation_tasks.service_data_downgrade_check_task, qualified_caregiver.pk, "投诉")
    (downgrade,) = Evaluation.objects.filter(caregiver=qualified_caregiver, source=Evaluation.Source.DOWNGRADE)
    assert (first, second) == (downgrade.pk, None) and downgrade.level == 1


@shows_idempotent("certification.tasks.attempts_close_overdue_task")
def test_close_overdue(caregiver):
    exam = exam_with_questions(time_limit_minutes=20)
    attempt = exam_services.attempt_start(
        caregiver=caregiver, exam=exam, now=timezone.now() - datetime.timedelta(hours=1)
    )
    assert delivered_twice(attempts_close_overdue_task) == [1, 0]
    closed = ExamAttempt.objects.get(pk=attempt.pk)
    assert closed.auto_submitted and closed.submitted_at == closed.deadline + exam_services.DEADLINE_GRACE


CLAUSES = [["*条款编号", "*条款标题", "条文", "上级条款编号"], ["5", "生活照料", "", ""], ["5.1", "饮食", "", "5"]]


def queued_import(settings, django_capture_on_commit_callbacks) -> ImportJob:
    """A clause import queued for the worker, its task not yet run."""
    settings.IMPORT_INLINE_MAX_BYTES = 0
    with django_capture_on_commit_callbacks(execute=False):
        return content_services.import_job_create(
            kind="clauses",
            upload=upload(CLAUSES, "clauses.xlsx"),
            user=content_administrator(),
            standard=StandardFactory(code="DB1405/T 902—2022"),
        )


@shows_idempotent("content.tasks.import_job_run_task")
def test_import_job_run(settings, django_capture_on_commit_callbacks):
    job = queued_import(settings, django_capture_on_commit_callbacks)
    standard = job.standard
    assert delivered_twice(import_job_run_task, job.pk) == [ImportJob.Status.SUCCEEDED] * 2
    assert Clause.objects.filter(standard=standard).count() == 2
    assert ModelLogEntry.objects.filter(action="carestar.import.succeed", object_id=str(job.pk)).count() == 1


@shows_idempotent("content.tasks.import_uploads_sweep_task")
def test_import_uploads_sweep(settings, django_capture_on_commit_callbacks):
    job = queued_import(settings, django_capture_on_commit_callbacks)
    long_ago = timezone.now() - datetime.timedelta(hours=settings.IMPORT_UPLOAD_MAX_HOURS + 1)
    ImportJob.objects.filter(pk=job.pk).update(created_at=long_ago)
    os.utime(storages["imports"].path(job.file.name), (long_ago.timestamp(), long_ago.timestamp()))

    first, second = delivered_twice(import_uploads_sweep_task)
    failed = ImportJob.objects.get(pk=job.pk)
    assert first >= 1 and second == 0
    assert failed.status == ImportJob.Status.FAILED and not failed.file
    assert not storages["imports"].exists(job.file.name)
    assert ImportJob.objects.get(pk=job.pk).finished_at == failed.finished_at


@shows_idempotent("accounts.tasks.audit_log_purge_task")
def test_audit_log_purge(caregiver):
    old = [log(caregiver, "wagtail.edit") for _ in range(2)]
    recent = log(caregiver, "wagtail.edit")
    long_ago = timezone.now() - datetime.timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS + 1)
    ModelLogEntry.objects.filter(pk__in=[entry.pk for entry in old]).update(timestamp=long_ago)

    assert delivered_twice(audit_log_purge_task) == [2, 0]
    assert ModelLogEntry.objects.filter(pk=recent.pk).exists()
