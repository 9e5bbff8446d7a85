"""The only writers of evaluations and certificates; exam and practical services live beside them."""

import datetime
import logging
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User

from .eligibility import caregiver_facts, star_level_compute
from .exams.services import (  # noqa: F401  (exam services keep their historical import path)
    DEADLINE_GRACE,
    attempt_answer_save,
    attempt_answers_save,
    attempt_start,
    attempt_submit,
    attempts_close_overdue,
)
from .models import (
    Certificate,
    Evaluation,
    SerialCounter,
    StarRuleSet,
    certificate_storage,
)
from .rendering import certificate_render_pdf, sha256_hex

logger = logging.getLogger(__name__)


# --- Star evaluations ----------------------------------------------------------------------------------


def assessor_conflict(*, assessor: User, caregiver: CaregiverProfile) -> str | None:
    """Why this assessor may not assess this caregiver, or None."""
    if assessor.pk == caregiver.user_id:
        return _("No one may assess themselves.")
    assessor_institution_id = getattr(getattr(assessor, "assessor_profile", None), "institution_id", None)
    if assessor_institution_id is not None and assessor_institution_id == caregiver.institution_id:
        return _("An assessor may not assess staff of their own institution.")
    return None


def evaluation_record(
    *,
    assessor: User,
    caregiver: CaregiverProfile,
    rule_set: StarRuleSet,
    practical_score: int,
    level: int,
    reason: str = "",
) -> Evaluation:
    if not assessor.has_role(Role.ASSESSOR):
        raise PermissionDenied(_("Only assessors record star evaluations."))
    conflict = assessor_conflict(assessor=assessor, caregiver=caregiver)
    if conflict:
        raise PermissionDenied(conflict)
    if not 0 <= practical_score <= 100:
        raise ValidationError(_("The practical score is a number from 0 to 100."))
    eligibility = star_level_compute(
        facts=caregiver_facts(caregiver=caregiver), rule_set=rule_set, practical_score=practical_score
    )
    if eligibility.computed_level < 1:
        raise ValidationError(_("The caregiver does not yet meet the criteria of any star level."))
    if not 1 <= level <= eligibility.computed_level:
        raise ValidationError(
            _("The level may not exceed the computed level of %(level)s stars.") % {"level": eligibility.computed_level}
        )
    if level < eligibility.computed_level and not reason.strip():
        raise ValidationError(_("Give a written reason for awarding less than the computed level."))
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            caregiver=caregiver,
            assessor=assessor,
            rule_set=rule_set,
            practical_score=practical_score,
            computed_level=eligibility.computed_level,
            level=level,
            reason=reason.strip(),
            criteria_snapshot=eligibility.as_snapshot(),
            status=Evaluation.Status.DECIDED,
            decided_at=timezone.now(),
        )
        log(
            evaluation,
            "carestar.evaluation.decide",
            user=assessor,
            data={"before": None, "after": {"level": level, "computed_level": eligibility.computed_level}},
        )
        from .tasks import certificate_issue_task

        transaction.on_commit(lambda: certificate_issue_task.delay(evaluation.pk))
    return evaluation


# --- Certificates --------------------------------------------------------------------------------------


def serial_number_next(*, region: str, year: int) -> str:
    """Allocate the next number in the caller's transaction: a rollback returns it, so the sequence has no gaps."""
    counter, _created = SerialCounter.objects.select_for_update().get_or_create(region=region, year=year)
    SerialCounter.objects.filter(pk=counter.pk).update(last_value=F("last_value") + 1)
    counter.refresh_from_db(fields=["last_value"])
    return f"{region}-{year}-{counter.last_value:06d}"


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def certificate_issue(*, evaluation_id: int) -> Certificate:
    """Issue the certificate for a decided evaluation: render once, store with its hash, in one transaction.

    Idempotent: a redelivered task, or two workers racing, end with the one certificate the constraint allows.
    """
    stored_name = None
    try:
        with transaction.atomic():
            evaluation = (
                Evaluation.objects.select_for_update()
                .select_related("caregiver__user")
                .get(pk=evaluation_id, status=Evaluation.Status.DECIDED)
            )
            existing = Certificate.objects.filter(evaluation=evaluation).first()
            if existing is not None:
                return existing
            issued_on = timezone.localdate()
            certificate = Certificate(
                evaluation=evaluation,
                caregiver=evaluation.caregiver,
                serial_number=serial_number_next(region=settings.CERTIFICATE_REGION_CODE, year=issued_on.year),
                verification_code=secrets.token_urlsafe(15),
                holder_name=evaluation.caregiver.name,
                holder_national_id_masked=evaluation.caregiver.national_id_masked,
                star_level=evaluation.level,
                issuer=settings.CERTIFICATE_ISSUER,
                issued_on=issued_on,
                valid_until=add_years(issued_on, settings.CERTIFICATE_VALIDITY_YEARS),
            )
            pdf_bytes = certificate_render_pdf(certificate)
            certificate.pdf_sha256 = sha256_hex(pdf_bytes)
            certificate.pdf.save(f"{certificate.serial_number}.pdf", ContentFile(pdf_bytes), save=False)
            stored_name = certificate.pdf.name
            certificate.save()
            log(
                certificate,
                "carestar.certificate.issue",
                user=None,
                data={"serial_number": certificate.serial_number, "star_level": certificate.star_level},
            )
    except BaseException:
        # No row, no file: a failed issue leaves nothing behind for the retry to trip over.
        if stored_name:
            certificate_storage().delete(stored_name)
        raise
    logger.info("certificate %s issued for evaluation %s", certificate.serial_number, evaluation_id)
    return certificate


def certificates_mark_expired(*, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    with transaction.atomic():
        expired = list(
            Certificate.objects.select_for_update().filter(status=Certificate.Status.VALID, valid_until__lt=today)
        )
        for certificate in expired:
            certificate.status = Certificate.Status.EXPIRED
            certificate.save(update_fields=["status"])
            log(
                certificate,
                "carestar.certificate.expire",
                user=None,
                data={"valid_until": str(certificate.valid_until)},
            )
    return len(expired)
