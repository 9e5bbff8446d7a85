"""The only writers of the question bank, exam attempts and their answers."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User

from . import selectors
from .models import AttemptAnswer, Choice, Exam, ExamAttempt, Question

# Answers that were on their way when the clock ran out still count; anything later does not.
DEADLINE_GRACE = datetime.timedelta(seconds=10)

_shuffler = random.SystemRandom()


# --- Question bank -------------------------------------------------------------------------------------


def question_status_for_author(*, user: User) -> str:
    """Administrators write straight into the bank; a training body's question waits for acceptance."""
    if user.is_administrator:
        return Question.Status.ACTIVE
    if user.has_role(Role.TRAINING_BODY):
        return Question.Status.PROPOSED
    raise PermissionDenied(_("Only administrators and training bodies may add questions."))


# An administrator's decisions on a question: accept or reject a proposal, retire a question or bring it back.
QUESTION_TRANSITIONS = {
    Question.Status.PROPOSED: {Question.Status.ACTIVE, Question.Status.REJECTED},
    Question.Status.ACTIVE: {Question.Status.RETIRED},
    Question.Status.RETIRED: {Question.Status.ACTIVE},
    Question.Status.REJECTED: set(),
}
QUESTION_STATUS_ACTIONS = {
    Question.Status.ACTIVE: "carestar.question.accept",
    Question.Status.REJECTED: "carestar.question.reject",
    Question.Status.RETIRED: "carestar.question.retire",
}


def question_status_change(*, question: Question, reviewer: User, status: str) -> Question:
    """Retired and rejected questions are never drawn again; papers already drawn keep them."""
    if not reviewer.is_administrator:
        raise PermissionDenied(_("Only administrators decide what is in the question bank."))
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        if status not in QUESTION_TRANSITIONS[question.status]:
            raise ValidationError(_("This question's status cannot change that way."))
        before = question.status
        question.status = status
        question.reviewed_by = reviewer
        question.reviewed_at = timezone.now()
        question.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        log(question, QUESTION_STATUS_ACTIONS[status], user=reviewer, data={"before": before, "after": status})
    return question


# --- Attempts ------------------------------------------------------------------------------------------


def attempt_is_overdue(attempt: ExamAttempt, now: datetime.datetime) -> bool:
    return attempt.submitted_at is None and now > attempt.deadline + DEADLINE_GRACE


def paper_draw(*, exam: Exam) -> list[tuple[int, int, list[int]]]:
    """(question id, points, option order) for a fresh attempt: fixed questions first, then each section's draw."""
    picked: list[tuple[int, int]] = [
        (question_id, points)
        for question_id, points in exam.exam_questions.order_by("sort_order").values_list("question_id", "points")
    ]
    used = {question_id for question_id, _points in picked}
    for section in exam.sections.select_related("clause").order_by("sort_order"):
        candidates = [
            question_id
            for question_id in Question.objects.filter(section.question_filter()).values_list("id", flat=True)
            if question_id not in used
        ]
        if len(candidates) < section.question_count:
            raise ValidationError(
                _(
                    "The exam cannot be set: section «%(section)s» needs %(needed)s questions, "
                    "the bank has %(available)s."
                )
                % {"section": section.title, "needed": section.question_count, "available": len(candidates)}
            )
        drawn = _shuffler.sample(candidates, section.question_count)
        used.update(drawn)
        picked.extend((question_id, section.points_per_question) for question_id in drawn)
    if not picked:
        raise ValidationError(_("This exam has no questions yet."))
    kinds = dict(Question.objects.filter(id__in=used).values_list("id", "kind"))
    options: dict[int, list[int]] = defaultdict(list)
    for question_id, choice_id in (
        Choice.objects.filter(question_id__in=used).order_by("sort_order", "id").values_list("question_id", "id")
    ):
        options[question_id].append(choice_id)
    paper = []
    for question_id, points in picked:
        order = options[question_id]
        if exam.shuffle_options and kinds[question_id] != Question.Kind.TRUE_FALSE:
            order = _shuffler.sample(order, len(order))
        paper.append((question_id, points, order))
    return paper


def attempt_start(*, caregiver: CaregiverProfile, exam: Exam, now: datetime.datetime | None = None) -> ExamAttempt:
    """Start an attempt, or return the open one so that a reload or a second device resumes it."""
    now = now or timezone.now()
    with transaction.atomic():
        standing = selectors.exam_standing(caregiver=caregiver, exam=exam, now=now)
        if standing.open_attempt is not None:
            if not attempt_is_overdue(standing.open_attempt, now):
                return standing.open_attempt
            attempt_submit(attempt=standing.open_attempt, now=now)
            standing = selectors.exam_standing(caregiver=caregiver, exam=exam, now=now)
        if standing.refusal:
            raise ValidationError(standing.refusal)
        deadline = now + datetime.timedelta(minutes=exam.time_limit_minutes + standing.extra_minutes)
        if exam.closes_at is not None:
            deadline = min(deadline, exam.closes_at)
        paper = paper_draw(exam=exam)
        try:
            with transaction.atomic():
                attempt = ExamAttempt.objects.create(exam=exam, caregiver=caregiver, started_at=now, deadline=deadline)
                AttemptAnswer.objects.bulk_create(
                    AttemptAnswer(
                        attempt=attempt, question_id=question_id, position=position, points=points, choice_order=order
                    )
                    for position, (question_id, points, order) in enumerate(paper, start=1)
                )
                return attempt
        except IntegrityError:
            # A second device started the same exam at the same moment: both continue the one attempt.
            return ExamAttempt.objects.get(exam=exam, caregiver=caregiver, submitted_at__isnull=True)


def _lock_accepting(attempt: ExamAttempt, now: datetime.datetime) -> ExamAttempt:
    """Lock the attempt for an answer; refuse it if the attempt is submitted or its time is up."""
    locked = ExamAttempt.objects.select_for_update().only("id", "deadline", "submitted_at").get(pk=attempt.pk)
    if locked.submitted_at is not None:
        raise ValidationError(_("This attempt has already been submitted."), code="submitted")
    if attempt_is_overdue(locked, now):
        raise ValidationError(_("Time is up: answers given after the deadline are not accepted."), code="overdue")
    return locked


def _answer_check(row: AttemptAnswer, choice_ids: list[int]) -> list[int]:
    choice_ids = sorted(set(choice_ids))
    if not set(choice_ids) <= set(row.choice_order):
        raise ValidationError(_("The answer names an option that does not belong to its question."))
    if len(choice_ids) > 1 and row.question.kind != Question.Kind.MULTIPLE:
        raise ValidationError(_("This question takes a single answer."))
    return choice_ids


def attempt_answer_save(
    *,
    attempt: ExamAttempt,
    question_id: int,
    choice_ids: list[int],
    revision: int | None = None,
    now: datetime.datetime | None = None,
) -> AttemptAnswer:
    """Save one answer as it is given. Idempotent; an older revision arriving late leaves a newer one in place."""
    now = now or timezone.now()
    revision = revision if revision is not None else int(now.timestamp() * 1000)
    with transaction.atomic():
        _lock_accepting(attempt, now)
        row = (
            AttemptAnswer.objects.select_related("question")
            .only("id", "choice_order", "choice_ids", "revision", "answered_at", "question__kind")
            .filter(attempt=attempt, question_id=question_id)
            .first()
        )
        if row is None:
            raise ValidationError(_("The answer names a question that is not on this exam."))
        choice_ids = _answer_check(row, choice_ids)
        if revision > row.revision:
            row.choice_ids, row.revision, row.answered_at = choice_ids, revision, now
            row.save(update_fields=["choice_ids", "revision", "answered_at"])
    return row


def attempt_answers_save(
    *, attempt: ExamAttempt, answers: dict[int, list[int]], now: datetime.datetime | None = None
) -> None:
    """Save a whole form of answers (the page without JavaScript): all of them, or none if one is invalid."""
    now = now or timezone.now()
    revision = int(now.timestamp() * 1000)
    with transaction.atomic():
        _lock_accepting(attempt, now)
        rows = {
            row.question_id: row
            for row in AttemptAnswer.objects.select_related("question")
            .only("id", "question_id", "choice_order", "choice_ids", "revision", "question__kind")
            .filter(attempt=attempt)
        }
        changed = []
        for question_id, choice_ids in answers.items():
            row = rows.get(question_id)
            if row is None:
                raise ValidationError(_("The answer names a question that is not on this exam."))
            choice_ids = _answer_check(row, choice_ids)
            if revision > row.revision and choice_ids != row.choice_ids:
                row.choice_ids, row.revision, row.answered_at = choice_ids, revision, now
                changed.append(row)
        AttemptAnswer.objects.bulk_update(changed, ["choice_ids", "revision", "answered_at"])


def attempt_submit(*, attempt: ExamAttempt, now: datetime.datetime | None = None) -> ExamAttempt:
    """Grade the attempt once; submitting again returns the graded attempt unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = ExamAttempt.objects.select_for_update().select_related("exam").get(pk=attempt.pk)
        if attempt.submitted_at is not None:
            return attempt
        rows = list(AttemptAnswer.objects.select_for_update().filter(attempt=attempt))
        correct: dict[int, set[int]] = defaultdict(set)
        for question_id, choice_id in Choice.objects.filter(
            question_id__in=[row.question_id for row in rows], is_correct=True
        ).values_list("question_id", "id"):
            correct[question_id].add(choice_id)
        earned = total = 0
        for row in rows:
            row.is_correct = bool(row.choice_ids) and set(row.choice_ids) == correct[row.question_id]
            total += row.points
            earned += row.points if row.is_correct else 0
        AttemptAnswer.objects.bulk_update(rows, ["is_correct"])
        attempt.score = (Decimal(100 * earned) / Decimal(total)).quantize(Decimal("0.1")) if total else Decimal("0")
        attempt.passed = attempt.score >= attempt.exam.pass_mark
        attempt.auto_submitted = attempt_is_overdue(attempt, now)
        attempt.submitted_at = min(now, attempt.deadline + DEADLINE_GRACE)
        attempt.save(update_fields=["score", "passed", "submitted_at", "auto_submitted"])
    return attempt


def attempt_close_if_overdue(*, attempt: ExamAttempt, now: datetime.datetime | None = None) -> ExamAttempt:
    """Whoever asks first after the deadline, the beat job or the caregiver's next request, submits the attempt."""
    now = now or timezone.now()
    if attempt_is_overdue(attempt, now):
        return attempt_submit(attempt=attempt, now=now)
    return attempt


def attempts_close_overdue(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    overdue = ExamAttempt.objects.filter(submitted_at__isnull=True, deadline__lt=now - DEADLINE_GRACE)
    count = 0
    for attempt in overdue.only("pk").iterator():
        attempt_submit(attempt=attempt, now=now)
        count += 1
    return count
