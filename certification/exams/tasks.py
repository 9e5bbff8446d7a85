from celery import shared_task

from . import services


@shared_task(name="certification.tasks.attempts_close_overdue_task")
def attempts_close_overdue_task() -> int:
    return services.attempts_close_overdue()
