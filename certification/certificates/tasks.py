"""Thin Celery tasks: take ids, call one service, retry on failure. Services make them idempotent."""

from celery import shared_task
from django.utils.translation import gettext as _

from config.celery import RETRYING

from . import services


@shared_task(name="certification.tasks.certificate_issue_task", **RETRYING)
def certificate_issue_task(evaluation_id: int) -> str:
    certificate = services.certificate_issue(evaluation_id=evaluation_id)
    return certificate.serial_number if certificate else ""


@shared_task(name="certification.tasks.certificate_pending_complete_task", **RETRYING)
def certificate_pending_complete_task(certificate_id: int) -> str:
    return services.certificate_pending_complete(certificate_id=certificate_id).serial_number


# Acknowledged on receipt, unlike the other tasks: a redelivered run would queue every piece of lost work a second
# time, and a run lost with its worker costs nothing, as beat sends the next one a minute later.
@shared_task(name="certification.tasks.certificates_requeue_lost_task", acks_late=False)
def certificates_requeue_lost_task() -> dict[str, int]:
    return services.certificates_requeue_lost()


@shared_task(name="certification.tasks.certificate_notify_task", **RETRYING)
def certificate_notify_task(certificate_id: int) -> bool:
    return services.certificate_notify(certificate_id=certificate_id)


@shared_task(name="certification.tasks.certificates_notify_task", **RETRYING)
def certificates_notify_task(certificate_ids: list[int]) -> int:
    return sum(services.certificate_notify(certificate_id=certificate_id) for certificate_id in certificate_ids)


@shared_task(name="certification.tasks.certificate_batch_items_task", bind=True, max_retries=8)
def certificate_batch_items_task(self, item_ids: list[int]) -> None:
    failed = services.certificate_batch_items_process(item_ids=item_ids)
    if not failed:
        return
    if self.request.retries >= self.max_retries:
        # Out of retries: show the failures in the batch's progress instead of leaving them pending forever.
        for item_id in failed:
            services.certificate_batch_item_failed(item_id=item_id, error=_("Issue failed after several tries."))
        return
    # Only the failed items go round again.
    raise self.retry(args=[failed], countdown=min(5 * 2**self.request.retries, 300))


@shared_task(name="certification.tasks.certificates_mark_expired_task")
def certificates_mark_expired_task() -> int:
    return services.certificates_mark_expired()


@shared_task(name="certification.tasks.certificates_remind_expiring_task")
def certificates_remind_expiring_task() -> int:
    return services.certificates_remind_expiring()
