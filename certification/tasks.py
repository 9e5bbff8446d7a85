"""Thin Celery tasks: take ids, call one service, retry on failure. Services make them idempotent."""

from celery import shared_task
from django.utils.translation import gettext as _

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
def certificates_notify_task(certificate_ids: list[int]) -> int:
    return sum(certificates.certificate_notify(certificate_id=certificate_id) for certificate_id in certificate_ids)


@shared_task(bind=True, max_retries=8)
def certificate_batch_items_task(self, item_ids: list[int]) -> None:
    failed = certificates.certificate_batch_items_process(item_ids=item_ids)
    if not failed:
        return
    if self.request.retries >= self.max_retries:
        # Out of retries: show the failures in the batch's progress instead of leaving them pending forever.
        for item_id in failed:
            certificates.certificate_batch_item_failed(item_id=item_id, error=_("Issue failed after several tries."))
        return
    # Only the failed items go round again.
    raise self.retry(args=[failed], countdown=min(5 * 2**self.request.retries, 300))


@shared_task(**RETRYING)
def service_data_downgrade_check_task(caregiver_id: int, cause: str) -> int | None:
    """After service data brought a substantiated incident: lower the caregiver's level if it no longer holds."""
    caregiver = CaregiverProfile.objects.get(pk=caregiver_id)
    downgrade = evaluation_services.downgrade_check(caregiver=caregiver, cause=cause)
    return downgrade.pk if downgrade else None


@shared_task
def certificates_mark_expired_task() -> int:
    return certificates.certificates_mark_expired()


@shared_task
def certificates_remind_expiring_task() -> int:
    return certificates.certificates_remind_expiring()


@shared_task
def attempts_close_overdue_task() -> int:
    return services.attempts_close_overdue()


@shared_task
def re_evaluation_due_remind_task() -> int:
    return evaluation_services.re_evaluation_due_remind()
