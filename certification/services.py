"""The only writers of exam attempts, evaluations and certificates."""

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User
from training.models import Enrollment

from .eligibility import caregiver_facts, star_level_compute
from .models import AttemptAnswer, Evaluation, Exam, ExamAttempt, StarRuleSet

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
