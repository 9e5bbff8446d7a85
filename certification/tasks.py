"""Thin Celery tasks: take ids, call one service, retry on failure. Services make them idempotent."""

from celery import shared_task

from accounts.models import CaregiverProfile

from . import certificates, services
from .evaluations import services as evaluation_services

RETRYING = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(**RETRYING)
def certificate_issue_task(evaluation_id: int) -> str:
    certificate = certificates.certificate_issue(evaluation_id=evaluation_id)
    return certificate.serial_number if certificate else ""


@shared_task(**RETRYING)
def evaluation_notify_task(evaluation_id: int) -> bool:
    return evaluation_services.evaluation_notify(evaluation_id=evaluation_id)


@shared_task(**RETRYING)
def certificate_notify_task(certificate_id: int) -> bool:
    return certificates.certificate_notify(certificate_id=certificate_id)


@shared_task(**RETRYING)
def service_data_downgrade_check_task(caregiver_id: int, cause: str) -> int | None:
    """After service data brought a substantiated incident: lower the caregiver's level if it no longer holds."""
    caregiver = CaregiverProfile.objects.get(pk=caregiver_id)
    downgrade = evaluation_services.downgrade_check(caregiver=caregiver, cause=cause)
    return downgrade.pk if downgrade else None


@shared_task(bind=True, **RETRYING)
def certificate_batch_item_task(self, item_id: int) -> None:
    try:
        certificates.certificate_batch_item_process(item_id=item_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            # Out of retries: show the failure in the batch's progress instead of leaving it pending forever.
            certificates.certificate_batch_item_failed(item_id=item_id, error=str(error))
        raise


@shared_task
def certificates_mark_expired_task() -> int:
    return certificates.certificates_mark_expired()


@shared_task
def certificates_remind_expiring_task() -> int:
    return certificates.certificates_remind_expiring()


@shared_task
def attempts_close_overdue_task() -> int:
    return services.attempts_close_overdue()
