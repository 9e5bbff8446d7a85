"""Thin Celery tasks: take ids, call one service, retry on failure. Services make them idempotent."""

from celery import shared_task

from . import services


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=300, max_retries=8)
def certificate_issue_task(self, evaluation_id: int) -> str:
    return services.certificate_issue(evaluation_id=evaluation_id).serial_number


@shared_task
def certificates_mark_expired_task() -> int:
    return services.certificates_mark_expired()


@shared_task
def attempts_close_overdue_task() -> int:
    return services.attempts_close_overdue()
