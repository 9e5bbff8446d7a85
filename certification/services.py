"""The only writers of exam attempts, evaluations and certificates."""

import datetime
import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User
from training.models import Enrollment

from .eligibility import caregiver_facts, star_level_compute
from .models import (
    AttemptAnswer,
    Certificate,
    Evaluation,
    Exam,
    ExamAttempt,
    SerialCounter,
    StarRuleSet,
    certificate_storage,
)
from .rendering import certificate_render_pdf, sha256_hex

logger = logging.getLogger(__name__)

# Answers that were on their way when the clock ran out still count; anything later does not.
DEADLINE_GRACE = datetime.timedelta(seconds=10)


# --- Exam attempts -----------------------------------------------------------------------------------


def attempt_start(*, caregiver: CaregiverProfile, exam: Exam, now: datetime.datetime | None = None) -> ExamAttempt:
    """Start an attempt, or return the open one so that a reload or a second device resumes it."""
    now = now or timezone.now()
    with transaction.atomic():
        open_attempt = ExamAttempt.objects.filter(exam=exam, caregiver=caregiver, submitted_at__isnull=True).first()
        if open_attempt is not None:
            if now <= open_attempt.deadline + DEADLINE_GRACE:
                return open_attempt
            attempt_submit(attempt=open_attempt, now=now)
        if not exam.is_open:
            raise ValidationError(_("This exam is closed."))
        if (
            exam.course_id
            and not Enrollment.objects.filter(
                caregiver=caregiver, course_id=exam.course_id, completed_at__isnull=False
            ).exists()
        ):
            raise ValidationError(_("Complete the course before you sit its exam."))
        if ExamAttempt.objects.filter(exam=exam, caregiver=caregiver).count() >= exam.max_attempts:
            raise ValidationError(_("You have used all your attempts at this exam."))
        try:
            with transaction.atomic():
                return ExamAttempt.objects.create(
                    exam=exam,
                    caregiver=caregiver,
                    started_at=now,
                    deadline=now + datetime.timedelta(minutes=exam.time_limit_minutes),
                )
        except IntegrityError:
            # A second device started the same exam at the same moment: both continue the one attempt.
            return ExamAttempt.objects.get(exam=exam, caregiver=caregiver, submitted_at__isnull=True)


def attempt_answers_save(
    *, attempt: ExamAttempt, answers: dict[int, list[int]], now: datetime.datetime | None = None
) -> None:
    now = now or timezone.now()
    if attempt.submitted_at is not None:
        raise ValidationError(_("This attempt has already been submitted."))
    if now > attempt.deadline + DEADLINE_GRACE:
        raise ValidationError(_("Time is up: answers given after the deadline are not accepted."))
    question_ids = set(attempt.exam.exam_questions.values_list("question_id", flat=True))
    valid_choices = {}
    for question_id, choice_id in attempt.exam.exam_questions.values_list("question_id", "question__choices__id"):
        valid_choices.setdefault(question_id, set()).add(choice_id)
    with transaction.atomic():
        for question_id, choice_ids in answers.items():
            if question_id not in question_ids:
                raise ValidationError(_("The answer names a question that is not on this exam."))
            if not set(choice_ids) <= valid_choices[question_id]:
                raise ValidationError(_("The answer names an option that does not belong to its question."))
            AttemptAnswer.objects.update_or_create(
                attempt=attempt,
                question_id=question_id,
                defaults={"choice_ids": sorted(set(choice_ids)), "answered_at": now},
            )


def attempt_submit(*, attempt: ExamAttempt, now: datetime.datetime | None = None) -> ExamAttempt:
    """Grade the attempt once; submitting again returns the graded attempt unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.submitted_at is not None:
            return attempt
        correct_by_question = {}
        points_by_question = {}
        for exam_question in attempt.exam.exam_questions.prefetch_related("question__choices"):
            points_by_question[exam_question.question_id] = exam_question.points
            correct_by_question[exam_question.question_id] = {
                choice.id for choice in exam_question.question.choices.all() if choice.is_correct
            }
        earned = 0
        for answer in attempt.answers.all():
            answer.is_correct = set(answer.choice_ids) == correct_by_question.get(answer.question_id)
            answer.save(update_fields=["is_correct"])
            if answer.is_correct:
                earned += points_by_question.get(answer.question_id, 0)
        total = sum(points_by_question.values())
        attempt.score = (Decimal(100 * earned) / Decimal(total)).quantize(Decimal("0.1")) if total else Decimal("0")
        attempt.passed = attempt.score >= attempt.exam.pass_mark
        attempt.submitted_at = min(now, attempt.deadline + DEADLINE_GRACE)
        attempt.save(update_fields=["score", "passed", "submitted_at"])
    return attempt


def attempts_close_overdue(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    overdue = ExamAttempt.objects.filter(submitted_at__isnull=True, deadline__lt=now - DEADLINE_GRACE)
    count = 0
    for attempt in overdue.iterator():
        attempt_submit(attempt=attempt, now=now)
        count += 1
    return count


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
