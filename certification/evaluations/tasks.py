from celery import shared_task

from accounts.models import CaregiverProfile
from config.celery import RETRYING

from . import services


@shared_task(name="certification.tasks.evaluation_notify_task", **RETRYING)
def evaluation_notify_task(evaluation_id: int) -> bool:
    return services.evaluation_notify(evaluation_id=evaluation_id)


@shared_task(name="certification.tasks.service_data_downgrade_check_task", **RETRYING)
def service_data_downgrade_check_task(caregiver_id: int, cause: str) -> int | None:
    """After service data brought a substantiated incident: lower the caregiver's level if it no longer holds."""
    caregiver = CaregiverProfile.objects.get(pk=caregiver_id)
    downgrade = services.downgrade_check(caregiver=caregiver, cause=cause)
    return downgrade.pk if downgrade else None


@shared_task(name="certification.tasks.re_evaluation_due_remind_task")
def re_evaluation_due_remind_task() -> int:
    return services.re_evaluation_due_remind()
