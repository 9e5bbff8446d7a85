"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task

from . import services


@shared_task(name="content.tasks.import_job_run_task", acks_late=True)
def import_job_run_task(job_id: int) -> str:
    return services.import_job_run(job_id=job_id).status


@shared_task(name="content.tasks.import_uploads_sweep_task")
def import_uploads_sweep_task() -> int:
    return services.import_uploads_sweep()
