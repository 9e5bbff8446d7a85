"""Reads for exams: a caregiver's standing at an exam, an attempt's paper, review visibility, item analysis."""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Avg, Case, Count, F, FloatField, Q, Sum, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile
from training.models import Enrollment

from .models import AttemptAnswer, Choice, Exam, ExamAttempt, ExamOverride, Question
from .options import option_value


@dataclass
class ExamStanding:
    """Where a caregiver stands at an exam: what they may do now, and if not, why."""

    attempts: list[ExamAttempt]
    attempts_allowed: int
    extra_minutes: int
    open_attempt: ExamAttempt | None
    next_start_at: datetime.datetime | None = None
    refusal: str | None = None

    @property
    def attempts_used(self) -> int:
        return len(self.attempts)

    @property
    def attempts_left(self) -> int:
        return max(0, self.attempts_allowed - self.attempts_used)


def _local(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def exam_standing(*, caregiver: CaregiverProfile, exam: Exam, now: datetime.datetime | None = None) -> ExamStanding:
    now = now or timezone.now()
    override = ExamOverride.objects.filter(exam=exam, caregiver=caregiver).first()
    attempts = list(ExamAttempt.objects.filter(exam=exam, caregiver=caregiver).order_by("-started_at"))
    for attempt in attempts:
        attempt.exam = exam
    standing = ExamStanding(
        attempts=attempts,
        attempts_allowed=exam.max_attempts + (override.extra_attempts if override else 0),
        extra_minutes=override.extra_minutes if override else 0,
        open_attempt=next((a for a in attempts if a.submitted_at is None), None),
    )
    last_submitted = max((a.submitted_at for a in attempts if a.submitted_at), default=None)
    if last_submitted and exam.retake_wait_hours:
        standing.next_start_at = last_submitted + datetime.timedelta(hours=exam.retake_wait_hours)
    if standing.open_attempt is not None:
        return standing
    if not exam.is_open:
        standing.refusal = _("This exam is closed.")
    elif exam.opens_at and now < exam.opens_at:
        standing.refusal = _("This exam opens at %(time)s.") % {"time": _local(exam.opens_at)}
    elif exam.closes_at and now >= exam.closes_at:
        standing.refusal = _("This exam closed at %(time)s.") % {"time": _local(exam.closes_at)}
    elif (
        exam.course_id
        and not Enrollment.objects.filter(
            caregiver=caregiver, course_id=exam.course_id, completed_at__isnull=False
        ).exists()
    ):
        standing.refusal = _("Complete the course before you sit its exam.")
    elif standing.attempts_used >= standing.attempts_allowed:
        standing.refusal = _("You have used all your attempts at this exam.")
    elif standing.next_start_at and now < standing.next_start_at:
        standing.refusal = _("You may try again from %(time)s.") % {"time": _local(standing.next_start_at)}
    return standing


@dataclass
class Review:
    show_score: bool
    show_key: bool
    available_at: datetime.datetime | None = None


def attempt_review(*, attempt: ExamAttempt, now: datetime.datetime | None = None) -> Review:
    """What a caregiver may see of a submitted attempt, as the exam is configured. Nothing while it is open."""
    now = now or timezone.now()
    if attempt.is_open:
        return Review(show_score=False, show_key=False)
    exam = attempt.exam
    closed = exam.is_closed_at(now)
    if exam.review == Exam.Review.AFTER_SUBMIT:
        return Review(show_score=True, show_key=True)
    if exam.review == Exam.Review.KEY_AFTER_CLOSE:
        return Review(show_score=True, show_key=closed, available_at=None if closed else exam.closes_at)
    return Review(show_score=closed, show_key=closed, available_at=None if closed else exam.closes_at)


@dataclass
class PaperOption:
    id: int
    text: str
    letter: str
    value: str = ""  # what the candidate's page sends for it (options.option_value)
    is_correct: bool | None = None


@dataclass
class PaperItem:
    number: int
    question: Question
    choices: list[PaperOption]
    selected: set[int]
    points: int
    answered_at: datetime.datetime | None
    is_correct: bool | None = None
    correct: set[int] = field(default_factory=set)

    @property
    def is_answered(self) -> bool:
        return bool(self.selected)


LETTERS = "ABCDEFGH"


def attempt_paper(*, attempt: ExamAttempt, with_key: bool = False) -> list[PaperItem]:
    """The attempt's frozen paper with the saved answers, in three queries; the key only after grading."""
    with_key = with_key and not attempt.is_open
    rows = AttemptAnswer.objects.filter(attempt=attempt).select_related("question__image").order_by("position")
    if not with_key:
        rows = rows.defer("question__explanation")
    rows = list(rows)
    texts: dict[int, str] = {}
    correct_ids: set[int] = set()
    fields = ("id", "text", "is_correct") if with_key else ("id", "text")
    for values in Choice.objects.filter(question_id__in=[row.question_id for row in rows]).values_list(*fields):
        texts[values[0]] = values[1]
        if with_key and values[2]:
            correct_ids.add(values[0])
    items = []
    for number, row in enumerate(rows, start=1):
        options = [
            PaperOption(
                id=choice_id,
                text=texts.get(choice_id, ""),
                letter=LETTERS[index % len(LETTERS)],
                value=option_value(attempt_id=attempt.pk, choice_id=choice_id),
            )
            for index, choice_id in enumerate(row.choice_order)
        ]
        item = PaperItem(
            number=number,
            question=row.question,
            choices=options,
            selected=set(row.choice_ids),
            points=row.points,
            answered_at=row.answered_at,
        )
        if with_key:
            item.correct = {option.id for option in options if option.id in correct_ids}
            item.is_correct = bool(row.is_correct)
            for option in options:
                option.is_correct = option.id in correct_ids
        items.append(item)
    return items


# --- Item analysis -------------------------------------------------------------------------------------


def questions_with_item_analysis(queryset=None):
    """Annotate each question with its responses, facility and the sums its discrimination needs, in one query.

    Facility is the share of graded answers that were right. Discrimination is the point-biserial correlation
    between answering the question right and the attempt's score (see `point_biserial`).
    """
    queryset = Question.objects.all() if queryset is None else queryset
    graded = Q(attempt_answers__is_correct__isnull=False)
    right = graded & Q(attempt_answers__is_correct=True)
    score = Cast(F("attempt_answers__attempt__score"), FloatField())
    return queryset.annotate(
        responses=Count("attempt_answers", filter=graded),
        facility=Avg(Case(When(right, then=1.0), When(graded, then=0.0), output_field=FloatField())),
        score_sum=Sum(score, filter=graded),
        score_square_sum=Sum(score * score, filter=graded),
        score_right_sum=Sum(score, filter=right),
    )


def point_biserial(*, responses: int, facility: float | None, score_sum, score_square_sum, score_right_sum):
    """r = (M1 − M) / s · √(p / q): M1 the mean score of those right, M and s the mean and SD of all, p the facility."""
    if not responses or facility is None or facility in (0, 1) or score_sum is None:
        return None
    mean = score_sum / responses
    variance = score_square_sum / responses - mean * mean
    if variance <= 1e-9:
        return None
    mean_right = score_right_sum / (facility * responses)
    return (mean_right - mean) / math.sqrt(variance) * math.sqrt(facility / (1 - facility))
