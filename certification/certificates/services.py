"""Certificate services: issue, re-issue, revoke, expire, remind, batch. The only writers of certificates."""

import datetime
import logging
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User

from .. import notifications
from ..dates import add_years
from ..evaluations.models import Evaluation
from .fonts import MissingGlyphsError, font_subsets
from .models import (
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateReminder,
    SerialCounter,
    certificate_storage,
    default_template,
)
from .openbadges import STATUS_LIST_SIZE, credential_jwt
from .rendering import certificate_render, sha256_hex
from .selectors import active_template
from .serials import serial_format, serial_scope
from .signing import pdf_sign

logger = logging.getLogger(__name__)


def serial_number_next(*, year: int, level: int) -> str:
    """Allocate the next number in the caller's transaction: a rollback returns it, so the sequence has no gaps."""
    counter, _created = SerialCounter.objects.select_for_update().get_or_create(
        scope=serial_scope(year=year, level=level),
        defaults={"region": settings.CERTIFICATE_REGION_CODE, "year": year},
    )
    SerialCounter.objects.filter(pk=counter.pk).update(last_value=F("last_value") + 1)
    counter.refresh_from_db(fields=["last_value"])
    return serial_format(year=year, level=level, sequence=counter.last_value)


def _lock_holder(caregiver_id: int) -> None:
    """Serialise issues and re-issues for one holder, so that no two certificates of theirs end up valid."""
    CaregiverProfile.objects.select_for_update().filter(pk=caregiver_id).first()


def _require_administrator(actor: User) -> None:
    if not actor.is_administrator:
        raise PermissionDenied(_("Only administrators may change certificates."))


def _status_list_index_new() -> int:
    """A free bit drawn at random in the status list being filled; each list is filled to half at most, so a draw
    rarely meets a bit already taken. (Two workers drawing the same bit at once: the unique index refuses one, and
    its task is retried.)"""
    # The highest id stands in for the number of certificates (none is ever deleted): an index lookup, where a
    # COUNT(*) on every issue would scan the table.
    last_id = Certificate.objects.aggregate(last=Max("pk"))["last"] or 0
    list_number = last_id // (STATUS_LIST_SIZE // 2)
    first = list_number * STATUS_LIST_SIZE
    while True:
        index = first + secrets.randbelow(STATUS_LIST_SIZE)
        if not Certificate.objects.filter(status_list_index=index).exists():
            return index


def _reserve(*, evaluation: Evaluation, issued_on: datetime.date, **fields) -> Certificate:
    """Insert the certificate as PENDING with its serial number, in the caller's transaction.

    The number is bound to the row from here on: a crash before the PDF is stored leaves a pending certificate
    that the retry completes with the same number, so the sequence has no gaps and nothing half-issued is public.
    """
    caregiver = evaluation.caregiver
    template = active_template()
    certificate = Certificate(
        evaluation=evaluation,
        caregiver=caregiver,
        template=template if template.pk else None,
        status=Certificate.Status.PENDING,
        serial_number=serial_number_next(year=issued_on.year, level=fields["star_level"]),
        verification_code=secrets.token_urlsafe(15),
        holder_name=caregiver.name,
        holder_national_id_masked=caregiver.national_id_masked,
        holder_subject=caregiver.credential_subject,
        status_list_index=_status_list_index_new(),
        issuer=settings.CERTIFICATE_ISSUER,
        issued_on=issued_on,
        **fields,
    )
    if caregiver.photo:
        with caregiver.photo.open("rb") as photo:
            certificate.holder_photo.save(f"photos/{uuid.uuid4().hex}.jpg", ContentFile(photo.read()), save=False)
    try:
        certificate.save()
    except BaseException:
        if certificate.holder_photo:
            certificate.holder_photo.storage.delete(certificate.holder_photo.name)
        raise
    return certificate


def _complete(*, certificate_id: int, actor: User | None, action: str, data: dict, notify: bool = True) -> Certificate:
    """Render and sign the pending certificate's PDF once, store it with its hash, and make the certificate valid.

    Rendering holds no lock, so workers render in parallel; the short final transaction decides which of two
    racing renders is kept, and the other's file is removed.
    """
    certificate = Certificate.objects.select_related("template", "caregiver").get(pk=certificate_id)
    if certificate.status != Certificate.Status.PENDING:
        return certificate
    # The Open Badges credential travels inside the PDF; the issuer's signature covers both.
    rendered = certificate_render(
        certificate, template=certificate.template or default_template(), credential_jwt=credential_jwt(certificate)
    )
    pdf_bytes = pdf_sign(rendered.pdf, seal_box=rendered.seal_box)
    storage = certificate_storage()
    stored_name = storage.save(f"{certificate.issued_on:%Y}/{certificate.serial_number}.pdf", ContentFile(pdf_bytes))
    try:
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
            if certificate.status != Certificate.Status.PENDING:
                storage.delete(stored_name)
                return certificate
            certificate.pdf.name = stored_name
            certificate.pdf_sha256 = sha256_hex(pdf_bytes)
            certificate.status = Certificate.Status.VALID
            certificate.save(update_fields=["pdf", "pdf_sha256", "status"])
            if certificate.predecessor_id:
                predecessor = Certificate.objects.select_for_update().get(pk=certificate.predecessor_id)
                if predecessor.status == Certificate.Status.VALID:
                    _supersede(certificate=predecessor, reason=certificate.issue_reason, actor=actor)
            log(certificate, action, user=actor, data={"serial_number": certificate.serial_number, **data})
            if notify:
                _queue_notification(certificate)
    except BaseException:
        storage.delete(stored_name)
        raise
    return certificate


def _supersede(*, certificate: Certificate, reason: str, actor: User | None) -> None:
    certificate.status = Certificate.Status.SUPERSEDED
    certificate.status_changed_at = timezone.now()
    certificate.status_changed_by = actor
    certificate.status_reason = reason
    certificate.save(update_fields=["status", "status_changed_at", "status_changed_by", "status_reason"])
    log(certificate, "carestar.certificate.supersede", user=actor, data={"reason": reason})


def _decision_outdated(evaluation: Evaluation) -> bool:
    """A later decision for the same caregiver exists: this one's certificate would be stale on arrival."""
    in_force = Evaluation.objects.filter(caregiver_id=evaluation.caregiver_id).decided_latest_first()
    return in_force.values_list("pk", flat=True).first() != evaluation.pk


def _withdraw_certificates(*, evaluation: Evaluation) -> None:
    """A decision at level 0 (a downgrade, a re-evaluation not passed): the holder's certificates stop being valid."""
    reason = _("Star level withdrawn by the decision of %(date)s.") % {
        "date": timezone.localdate(evaluation.decided_at)
    }
    for certificate in Certificate.objects.select_for_update().filter(
        caregiver_id=evaluation.caregiver_id, status=Certificate.Status.VALID
    ):
        certificate.status = Certificate.Status.REVOKED
        certificate.status_changed_at = timezone.now()
        certificate.status_reason = reason
        certificate.save(update_fields=["status", "status_changed_at", "status_reason"])
        log(
            certificate,
            "carestar.certificate.revoke",
            user=None,
            data={"before": Certificate.Status.VALID, "after": Certificate.Status.REVOKED, "evaluation": evaluation.pk},
        )


def certificate_issue(*, evaluation_id: int, notify: bool = True) -> Certificate | None:
    """Issue the certificate for a decided evaluation, or withdraw the holder's certificates at level 0.

    Idempotent: a redelivered task, or two workers racing, end with the one certificate the constraint allows.
    A certificate from an earlier decision that is still valid is superseded by this one (upgrade, re-evaluation).
    A decision overtaken by a later one before its certificate was issued gets none (returns None).
    `notify=False` leaves the holder's notice to the caller (a batch sends its notices together).
    """
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update()
            .select_related("caregiver__user")
            .get(pk=evaluation_id, status=Evaluation.Status.DECIDED)
        )
        certificate = Certificate.objects.filter(evaluation=evaluation, kind=Certificate.Kind.ORIGINAL).first()
        if certificate is not None and certificate.status != Certificate.Status.PENDING:
            return certificate  # a repeat of a task that has done its work
        if certificate is None:
            _lock_holder(evaluation.caregiver_id)
            if _decision_outdated(evaluation):
                logger.info("evaluation %s was overtaken by a later decision: no certificate", evaluation_id)
                return None
            if evaluation.level == 0:
                _withdraw_certificates(evaluation=evaluation)
                return None
            # Refuse a name no font can print before a number is taken: nothing is left pending for ever.
            font_subsets(evaluation.caregiver.name)
            previous = (
                Certificate.objects.filter(
                    caregiver=evaluation.caregiver, status=Certificate.Status.VALID, successor__isnull=True
                )
                .order_by("-issued_on", "-id")
                .first()
            )
            issued_on = timezone.localdate()
            certificate = _reserve(
                evaluation=evaluation,
                issued_on=issued_on,
                kind=Certificate.Kind.ORIGINAL,
                predecessor=previous,
                issue_reason=_("Re-evaluation") if previous else _("Star evaluation decided"),
                star_level=evaluation.level,
                valid_until=add_years(issued_on, settings.CERTIFICATE_VALIDITY_YEARS),
            )
    certificate = _complete(
        certificate_id=certificate.pk,
        actor=None,
        action="carestar.certificate.issue",
        data={"star_level": certificate.star_level, "evaluation": evaluation_id},
        notify=notify,
    )
    logger.info("certificate %s issued for evaluation %s", certificate.serial_number, evaluation_id)
    return certificate


def certificate_reissue(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """Re-issue a valid certificate with the holder's corrected details; the original keeps its record."""
    _require_administrator(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason for the re-issue."))
    with transaction.atomic():
        original = (
            Certificate.objects.select_for_update().select_related("evaluation__caregiver__user").get(pk=certificate.pk)
        )
        if original.status != Certificate.Status.VALID:
            raise ValidationError(_("Only a valid certificate can be re-issued."))
        _lock_holder(original.caregiver_id)
        try:
            font_subsets(original.evaluation.caregiver.name)
        except MissingGlyphsError as error:
            raise ValidationError(str(error))
        if Certificate.objects.filter(predecessor=original).exists():
            raise ValidationError(_("This certificate is already being re-issued."))
        successor = _reserve(
            evaluation=original.evaluation,
            issued_on=timezone.localdate(),
            kind=Certificate.Kind.REISSUE,
            predecessor=original,
            issue_reason=reason,
            star_level=original.star_level,
            valid_until=original.valid_until,
        )
    return _complete_reissue(successor=successor, actor=actor)


def _complete_reissue(*, successor: Certificate, actor: User | None) -> Certificate:
    predecessor = successor.predecessor
    return _complete(
        certificate_id=successor.pk,
        actor=actor,
        action="carestar.certificate.reissue",
        data={
            "predecessor": predecessor.serial_number,
            "reason": successor.issue_reason,
            "before": {"holder_name": predecessor.holder_name},
            "after": {"holder_name": successor.holder_name},
        },
    )


def certificate_pending_complete(*, certificate_id: int) -> Certificate:
    """Finish a certificate left pending by a crash: an original through its issue, a re-issue as the re-issue.

    The re-issue's audit entry then names no user: the platform finished what the administrator started.
    """
    certificate = Certificate.objects.select_related("predecessor").get(pk=certificate_id)
    if certificate.kind == Certificate.Kind.ORIGINAL:
        return certificate_issue(evaluation_id=certificate.evaluation_id) or certificate
    return _complete_reissue(successor=certificate, actor=None)


def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    _require_administrator(actor)
    if not reason.strip():
        raise ValidationError(_("Give the reason for the revocation."))
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status == Certificate.Status.REVOKED:
            raise ValidationError(_("This certificate is already revoked."))
        if certificate.status == Certificate.Status.PENDING:
            raise ValidationError(_("This certificate is still being issued; revoke it once it is issued."))
        if Certificate.objects.filter(predecessor=certificate, status=Certificate.Status.PENDING).exists():
            raise ValidationError(
                _("A re-issue of this certificate is in progress; revoke the new one once it is issued.")
            )
        before = certificate.status
        certificate.status = Certificate.Status.REVOKED
        certificate.status_changed_at = timezone.now()
        certificate.status_changed_by = actor
        certificate.status_reason = reason.strip()
        certificate.save(update_fields=["status", "status_changed_at", "status_changed_by", "status_reason"])
        log(
            certificate,
            "carestar.certificate.revoke",
            user=actor,
            data={"before": before, "after": Certificate.Status.REVOKED, "reason": reason.strip()},
        )
    return certificate


def certificates_mark_expired(*, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    with transaction.atomic():
        expired = list(
            Certificate.objects.select_for_update().filter(status=Certificate.Status.VALID, valid_until__lt=today)
        )
        for certificate in expired:
            certificate.status = Certificate.Status.EXPIRED
            certificate.status_changed_at = timezone.now()
            certificate.save(update_fields=["status", "status_changed_at"])
            log(
                certificate,
                "carestar.certificate.expire",
                user=None,
                data={"valid_until": str(certificate.valid_until)},
            )
    return len(expired)


# --- Notifications and reminders -------------------------------------------------------------------------


def _queue_notification(certificate: Certificate) -> None:
    from .tasks import certificate_notify_task

    # robust: the certificate is issued whatever happens to the notice; a broker outage is logged, not raised
    # into the issuing code (which would otherwise treat the committed certificate as failed).
    transaction.on_commit(lambda: certificate_notify_task.delay(certificate.pk), robust=True)


def certificate_notify(*, certificate_id: int) -> bool:
    """Tell the holder their certificate is issued; once, whatever the queue redelivers."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().select_related("caregiver__user").get(pk=certificate_id)
        if certificate.notified_at is not None:
            return False
        notifications.notify_user(
            user=certificate.caregiver.user,
            subject=_("Your star certificate %(serial)s is issued") % {"serial": certificate.serial_number},
            message=_(
                "%(name)s, your %(level)s-star caregiver certificate %(serial)s is issued, valid until %(until)s. "
                "Verify it at %(url)s"
            )
            % {
                "name": certificate.holder_name,
                "level": certificate.star_level,
                "serial": certificate.serial_number,
                "until": certificate.valid_until.isoformat(),
                "url": certificate.verify_url,
            },
        )
        certificate.notified_at = timezone.now()
        certificate.save(update_fields=["notified_at"])
    return True


def certificates_remind_expiring(*, today: datetime.date | None = None) -> int:
    """Remind holders and their institution's managers before expiry, once per threshold (60, then 30 days)."""
    today = today or timezone.localdate()
    thresholds = sorted(settings.CERTIFICATE_REMINDER_DAYS)
    sent = 0
    for position, days in enumerate(thresholds):
        # A certificate gets the reminder of the window it is in: (next smaller threshold, days].
        lower = thresholds[position - 1] if position else -1
        due = (
            Certificate.objects.filter(
                status=Certificate.Status.VALID,
                valid_until__lte=today + datetime.timedelta(days=days),
                valid_until__gt=today + datetime.timedelta(days=lower),
            )
            .exclude(reminders__days_before=days)
            .select_related("caregiver__user", "caregiver__institution")
        )
        for certificate in due:
            with transaction.atomic():
                _reminder, created = CertificateReminder.objects.get_or_create(
                    certificate=certificate, days_before=days
                )
                if not created:
                    continue
                _send_expiry_reminder(certificate=certificate, today=today)
                sent += 1
    return sent


def _send_expiry_reminder(*, certificate: Certificate, today: datetime.date) -> None:
    days_left = (certificate.valid_until - today).days
    values = {
        "name": certificate.holder_name,
        "serial": certificate.serial_number,
        "until": certificate.valid_until.isoformat(),
        "days": days_left,
    }
    subject = _("Certificate %(serial)s expires in %(days)s days") % values
    notifications.notify_user(
        user=certificate.caregiver.user,
        subject=subject,
        message=_("%(name)s, your star certificate %(serial)s expires on %(until)s. Apply for re-evaluation in time.")
        % values,
    )
    managers = User.objects.filter(role=Role.MANAGER, is_active=True, institution=certificate.caregiver.institution_id)
    for manager in managers:
        notifications.notify_user(
            user=manager,
            subject=subject,
            message=_("The star certificate %(serial)s of %(name)s expires on %(until)s.") % values,
        )


# --- Batches -----------------------------------------------------------------------------------------------


def certificate_batch_create(
    *,
    actor: User,
    name: str,
    institution_id: int | None = None,
    county_id: int | None = None,
    round_id: int | None = None,
) -> CertificateBatch:
    """Issue certificates for every decision in force (of a round, an institution or a county) that has none yet."""
    _require_administrator(actor)
    # Pending certificates are included: their issue is completed with the number they already hold.
    evaluations = (
        Evaluation.objects.in_force()
        .filter(level__gte=1)
        .exclude(pk__in=Certificate.objects.issued().filter(kind=Certificate.Kind.ORIGINAL).values("evaluation_id"))
        # Items still waiting in an earlier batch stay there: a second batch would only repeat them.
        .exclude(pk__in=CertificateBatchItem.objects.filter(certificate__isnull=True, error="").values("evaluation_id"))
    )
    if round_id:
        evaluations = evaluations.filter(round_id=round_id)
    if institution_id:
        evaluations = evaluations.filter(caregiver__institution_id=institution_id)
    if county_id:
        evaluations = evaluations.filter(caregiver__institution__county_id=county_id)
    evaluation_ids = list(evaluations.values_list("pk", flat=True))
    if not evaluation_ids:
        raise ValidationError(_("Every decided evaluation in this selection already has its certificate."))
    with transaction.atomic():
        batch = CertificateBatch.objects.create(
            name=name, institution_id=institution_id, county_id=county_id, round_id=round_id, created_by=actor
        )
        CertificateBatchItem.objects.bulk_create(
            CertificateBatchItem(batch=batch, evaluation_id=evaluation_id) for evaluation_id in evaluation_ids
        )
        log(batch, "carestar.certificate.batch", user=actor, data={"evaluations": len(evaluation_ids)})
        from .tasks import certificate_batch_items_task

        # Items travel in chunks: a message per certificate costs the broker and the workers more than it buys.
        item_ids = list(batch.items.values_list("pk", flat=True))
        size = settings.CERTIFICATE_BATCH_CHUNK
        chunks = [item_ids[start : start + size] for start in range(0, len(item_ids), size)]
        transaction.on_commit(lambda: [certificate_batch_items_task.delay(chunk) for chunk in chunks])
    return batch


def certificate_batch_item_process(*, item_id: int, notify: bool = True) -> Certificate | None:
    """Issue one item's certificate; returns it when this call issued it (None when done before, or refused)."""
    item = CertificateBatchItem.objects.get(pk=item_id)
    if item.certificate_id:
        return None
    try:
        certificate = certificate_issue(evaluation_id=item.evaluation_id, notify=notify)
    except MissingGlyphsError as error:
        # Not worth retrying: the holder's name needs a font (or a correction) first.
        CertificateBatchItem.objects.filter(pk=item_id).update(error=str(error)[:300])
        return None
    if certificate is None:
        error = _("No certificate: a later decision replaced this one.")
        CertificateBatchItem.objects.filter(pk=item_id).update(error=error)
        return None
    CertificateBatchItem.objects.filter(pk=item_id).update(certificate=certificate, error="")
    return certificate


def certificate_batch_items_process(*, item_ids: list[int]) -> list[int]:
    """Issue a chunk of a batch, each item on its own; returns the items that failed and may be retried.

    The holders' notices leave together, in one message, once the chunk is done.
    """
    issued, failed = [], []
    for item_id in item_ids:
        try:
            certificate = certificate_batch_item_process(item_id=item_id, notify=False)
        except Exception:
            logger.exception("batch item %s failed; it will be retried", item_id)
            failed.append(item_id)
            continue
        if certificate is not None:
            issued.append(certificate.pk)
    # A chunk delivered again after its worker died finds items issued whose notices never left: they go now, not
    # with beat's recovery minutes later. A notice already sent is not sent again (certificate_notify).
    issued += (
        CertificateBatchItem.objects.filter(
            pk__in=item_ids, certificate__status=Certificate.Status.VALID, certificate__notified_at__isnull=True
        )
        .exclude(certificate__in=issued)
        .values_list("certificate_id", flat=True)
    )
    if issued:
        from .tasks import certificates_notify_task

        certificates_notify_task.delay(issued)
    return failed


def certificate_batch_item_failed(*, item_id: int, error: str) -> None:
    CertificateBatchItem.objects.filter(pk=item_id, certificate__isnull=True).update(error=error[:300])


# --- Recovery ----------------------------------------------------------------------------------------------


def certificates_requeue_lost(*, now: datetime.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Queue again the certificate work whose task never ran; beat calls it every minute.

    The broker can lose a task whose worker is killed at the instant it takes it. Whatever is still undone
    CERTIFICATE_REQUEUE_AFTER_SECONDS after it was queued goes round again: a decision in force without its
    certificate (or, at level 0, with its holder's certificates not yet withdrawn), a pending certificate, a
    batch none of whose items has moved for that long, a notice not sent. Every task is idempotent, so work
    that was only slow costs a repeat, never a second certificate. Returns what was queued, per kind.
    """
    from .tasks import (
        certificate_batch_items_task,
        certificate_issue_task,
        certificate_notify_task,
        certificate_pending_complete_task,
    )

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CERTIFICATE_REQUEUE_AFTER_SECONDS)
    waiting_items = CertificateBatchItem.objects.filter(certificate__isnull=True, error="")
    pending = Certificate.objects.filter(status=Certificate.Status.PENDING, created_at__lt=cutoff)
    pending_ids = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])

    in_force = Evaluation.objects.in_force().filter(decided_at__lt=cutoff)
    without_certificate = (
        in_force.filter(level__gte=1)
        .exclude(pk__in=Certificate.objects.filter(kind=Certificate.Kind.ORIGINAL).values("evaluation_id"))
        .exclude(pk__in=waiting_items.values("evaluation_id"))
        .select_related("caregiver__user")
        .order_by("pk")[:limit]
    )
    issue_ids = []
    for evaluation in without_certificate:
        try:
            font_subsets(evaluation.caregiver.name)
        except MissingGlyphsError:
            continue  # refused until the name is corrected or a font added; its task already said so
        issue_ids.append(evaluation.pk)
    withdraw_ids = list(
        in_force.filter(level=0)
        .filter(
            Exists(
                Certificate.objects.filter(
                    caregiver_id=OuterRef("caregiver_id"),
                    status=Certificate.Status.VALID,
                    created_at__lt=OuterRef("decided_at"),
                )
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )

    # A batch still moving is left alone, however long it has run; one that has stopped goes round again.
    stalled = (
        CertificateBatch.objects.filter(created_at__lt=cutoff)
        .filter(Exists(waiting_items.filter(batch=OuterRef("pk"))))
        .exclude(items__certificate__created_at__gte=cutoff)
    )
    stalled_items = list(waiting_items.filter(batch__in=stalled).order_by("pk").values_list("pk", flat=True)[:limit])

    unnotified = list(
        Certificate.objects.filter(
            status=Certificate.Status.VALID,
            notified_at__isnull=True,
            created_at__lt=cutoff,
            created_at__gte=now - datetime.timedelta(days=7),  # older certificates predate the notices
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )

    for certificate_id in pending_ids:
        certificate_pending_complete_task.delay(certificate_id)
    for evaluation_id in issue_ids + withdraw_ids:
        certificate_issue_task.delay(evaluation_id)
    size = settings.CERTIFICATE_BATCH_CHUNK
    for start in range(0, len(stalled_items), size):
        certificate_batch_items_task.delay(stalled_items[start : start + size])
    for certificate_id in unnotified:
        certificate_notify_task.delay(certificate_id)
    queued = {
        "pending": len(pending_ids),
        "issue": len(issue_ids),
        "withdraw": len(withdraw_ids),
        "batch_items": len(stalled_items),
        "notify": len(unnotified),
    }
    if any(queued.values()):
        logger.warning("certificate work queued again after it went missing: %s", queued)
    return queued
