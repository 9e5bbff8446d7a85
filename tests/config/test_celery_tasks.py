"""Task names are part of the broker's data: beat schedules and messages already queued name them, so they stay
fixed wherever the task's module lives."""

from django.conf import settings

from config.celery import app

NAMES = {
    "certification.tasks.attempts_close_overdue_task",
    "certification.tasks.certificate_batch_items_task",
    "certification.tasks.certificate_issue_task",
    "certification.tasks.certificate_notify_task",
    "certification.tasks.certificate_pending_complete_task",
    "certification.tasks.certificates_mark_expired_task",
    "certification.tasks.certificates_notify_task",
    "certification.tasks.certificates_remind_expiring_task",
    "certification.tasks.certificates_requeue_lost_task",
    "certification.tasks.evaluation_notify_task",
    "certification.tasks.re_evaluation_due_remind_task",
    "certification.tasks.service_data_downgrade_check_task",
    "accounts.tasks.audit_log_purge_task",
    "content.tasks.import_job_run_task",
    "content.tasks.import_uploads_sweep_task",
}


def _project_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_keeps_the_name_its_messages_carry():
    assert _project_tasks() == NAMES


def test_every_beat_entry_names_a_registered_task():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= _project_tasks()
