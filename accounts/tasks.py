"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(name="accounts.tasks.audit_log_purge_task")
def audit_log_purge_task() -> int:
    return services.audit_log_purge()
