"""Question bank, exam definitions and attempts.

An attempt freezes its paper when it starts: one AttemptAnswer row per question, in order, with the option order
the caregiver sees. A reload, a second device or a regrade reads that row, never a fresh draw.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
STAR_LEVEL = [MinValueValidator(1), MaxValueValidator(5)]


class Difficulty(models.IntegerChoices):
    EASY = 1, _("Easy")
    MEDIUM = 2, _("Medium")
    HARD = 3, _("Hard")


class Question(ClusterableModel):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        TRUE_FALSE = "true_false", _("True or false")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("In the bank")
        REJECTED = "rejected", _("Rejected")
        RETIRED = "retired", _("Retired")

    text = models.TextField(_("question"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SINGLE)
    image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("image"),
    )
    explanation = models.TextField(_("explanation"), blank=True, help_text=_("Shown with the result."))
    clause = models.ForeignKey(
        "content.Clause",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("clause"),
    )
    service_item = models.ForeignKey(
        "content.ServiceItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("service item"),
    )
    difficulty = models.PositiveSmallIntegerField(
        _("difficulty"), choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    star_level = models.PositiveSmallIntegerField(
        _("target star level"),
        null=True,
        blank=True,
        validators=STAR_LEVEL,
        help_text=_("The star level this question is written for; empty for every level."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions_proposed",
        verbose_name=_("proposed by"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions_reviewed",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, null=True)

    panels = [
        FieldPanel("text"),
        FieldPanel("kind"),
        FieldPanel("image"),
        InlinePanel("choices", label=_("options"), min_num=2, max_num=8),
        FieldPanel("explanation"),
        MultiFieldPanel(
            [
                FieldPanel("clause"),
                FieldPanel("service_item"),
                FieldRowPanel([FieldPanel("difficulty"), FieldPanel("star_level")]),
            ],
            heading=_("Tags"),
        ),
    ]

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "service_item", "difficulty"], name="question_draw_by_item"),
            models.Index(fields=["status", "clause"], name="question_draw_by_clause"),
        ]
        verbose_name = _("question")
        verbose_name_plural = _("question bank")

    def __str__(self):
        return self.text[:60]


class Choice(Orderable):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("option"), max_length=300)
    is_correct = models.BooleanField(_("correct"), default=False)

    panels = [FieldPanel("text"), FieldPanel("is_correct")]

    def __str__(self):
        return self.text


class Exam(ClusterableModel):
    class Review(models.TextChoices):
        AFTER_SUBMIT = "after_submit", _("Score and correct answers right after submission")
        KEY_AFTER_CLOSE = "key_after_close", _("Score after submission, correct answers after the exam closes")
        AFTER_CLOSE = "after_close", _("Score and correct answers after the exam closes")

    title = models.CharField(_("title"), max_length=120)
    course = models.ForeignKey(
        "training.CoursePage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exams",
        verbose_name=_("course"),
        help_text=_("Candidates must have completed this course before they sit the exam."),
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"), default=30, validators=[MinValueValidator(1)]
    )
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=60, validators=PERCENT)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"), default=3, validators=[MinValueValidator(1)])
    retake_wait_hours = models.PositiveIntegerField(
        _("waiting period between attempts (hours)"), default=0, help_text=_("0 lets a candidate retry at once.")
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(
        _("closes at"),
        null=True,
        blank=True,
        help_text=_("Attempts end at this time at the latest, whatever their time limit."),
    )
    is_open = models.BooleanField(_("open"), default=True)
    shuffle_options = models.BooleanField(
        _("shuffle options"), default=True, help_text=_("Each attempt sees the options of a question in its own order.")
    )
    review = models.CharField(
        _("results and correct answers"), max_length=20, choices=Review.choices, default=Review.AFTER_SUBMIT
    )

    panels = [
        FieldPanel("title"),
        FieldPanel("course"),
        FieldRowPanel([FieldPanel("time_limit_minutes"), FieldPanel("pass_mark")]),
        FieldRowPanel([FieldPanel("max_attempts"), FieldPanel("retake_wait_hours")]),
        FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
        FieldPanel("is_open"),
        FieldPanel("shuffle_options"),
        FieldPanel("review"),
        InlinePanel("sections", label=_("sections drawn at random")),
        InlinePanel("exam_questions", label=_("fixed questions")),
    ]

    class Meta:
        verbose_name = _("theory exam")
        verbose_name_plural = _("theory exams")

    def __str__(self):
        return self.title

    def clean(self):
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The exam must close after it opens.")})

    def is_closed_at(self, now) -> bool:
        return not self.is_open or (self.closes_at is not None and now >= self.closes_at)


class ExamSection(Orderable):
    """Draws `question_count` questions at random from the bank's active questions that match its tags."""

    exam = ParentalKey(Exam, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("title"), max_length=120)
    question_count = models.PositiveSmallIntegerField(_("questions to draw"), validators=[MinValueValidator(1)])
    points_per_question = models.PositiveSmallIntegerField(
        _("points per question"), default=1, validators=[MinValueValidator(1)]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Question.Kind.choices, blank=True)
    clause = models.ForeignKey(
        "content.Clause",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clause"),
        help_text=_("Includes the clause's sub-clauses."),
    )
    service_item = models.ForeignKey(
        "content.ServiceItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service item"),
    )
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), choices=Difficulty.choices, null=True, blank=True)
    star_level = models.PositiveSmallIntegerField(_("target star level"), null=True, blank=True, validators=STAR_LEVEL)

    panels = [
        FieldRowPanel([FieldPanel("title"), FieldPanel("question_count"), FieldPanel("points_per_question")]),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("difficulty"), FieldPanel("star_level")]),
        FieldRowPanel([FieldPanel("clause"), FieldPanel("service_item")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("exam section")

    def __str__(self):
        return self.title

    def question_filter(self) -> Q:
        condition = Q(status=Question.Status.ACTIVE)
        if self.kind:
            condition &= Q(kind=self.kind)
        if self.clause_id:
            condition &= Q(clause_id=self.clause_id) | Q(
                clause__standard_id=self.clause.standard_id, clause__number__startswith=f"{self.clause.number}."
            )
        if self.service_item_id:
            condition &= Q(service_item_id=self.service_item_id)
        if self.difficulty:
            condition &= Q(difficulty=self.difficulty)
        if self.star_level:
            condition &= Q(star_level=self.star_level) | Q(star_level__isnull=True)
        return condition

    def clean(self):
        if self.question_count:
            available = Question.objects.filter(self.question_filter()).count()
            if available < self.question_count:
                raise ValidationError(
                    {
                        "question_count": _("The bank holds only %(available)s active questions with these tags.")
                        % {"available": available}
                    }
                )


class ExamQuestion(Orderable):
    """A question every attempt of the exam gets, before the drawn sections."""

    exam = ParentalKey(Exam, on_delete=models.CASCADE, related_name="exam_questions")
    question = models.ForeignKey(
        Question,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("question"),
        limit_choices_to={"status": Question.Status.ACTIVE},
    )
    points = models.PositiveSmallIntegerField(_("points"), default=1)

    panels = [FieldPanel("question"), FieldPanel("points")]

    class Meta(Orderable.Meta):
        constraints = [models.UniqueConstraint(fields=["exam", "question"], name="exam_question_unique")]


class ExamOverride(models.Model):
    """Extra time or extra attempts for one caregiver at one exam, e.g. for a documented disability."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("exam"))
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile",
        on_delete=models.CASCADE,
        related_name="exam_overrides",
        verbose_name=_("caregiver"),
    )
    extra_minutes = models.PositiveSmallIntegerField(_("extra time (minutes)"), default=0)
    extra_attempts = models.PositiveSmallIntegerField(_("extra attempts"), default=0)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exam", "caregiver"], name="exam_override_unique")]
        verbose_name = _("exam override")
        verbose_name_plural = _("exam overrides")

    def __str__(self):
        return f"{self.caregiver} · {self.exam}"


class ExamAttempt(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("exam"))
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.CASCADE, related_name="exam_attempts", verbose_name=_("caregiver")
    )
    started_at = models.DateTimeField(_("started at"))
    deadline = models.DateTimeField(_("deadline"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    auto_submitted = models.BooleanField(_("submitted when time ran out"), default=False)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True)

    # Thousands are written in the minute an exam starts; Wagtail's usage index of them would cost five queries each.
    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "caregiver"], condition=Q(submitted_at__isnull=True), name="one_open_attempt_per_exam"
            )
        ]
        indexes = [
            models.Index(fields=["caregiver", "exam"], name="attempt_by_caregiver"),
            models.Index(fields=["deadline"], condition=Q(submitted_at__isnull=True), name="attempt_open_deadline"),
        ]
        verbose_name = _("exam attempt")
        verbose_name_plural = _("exam attempts")

    def __str__(self):
        return f"{self.caregiver} · {self.exam}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None


class AttemptAnswer(models.Model):
    """One question of an attempt's frozen paper, with the caregiver's latest answer to it."""

    attempt = models.ForeignKey(ExamAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempt_answers")
    position = models.PositiveSmallIntegerField(default=0)
    points = models.PositiveSmallIntegerField(default=1)
    # The option ids in the order this attempt shows them: a resume shows the same paper.
    choice_order = models.JSONField(default=list)
    choice_ids = models.JSONField(default=list)
    # The client's revision of the answer; a late retry of an older answer never overwrites a newer one.
    revision = models.BigIntegerField(default=0)
    is_correct = models.BooleanField(null=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="attempt_answer_unique")]

    def __str__(self):
        return f"{self.attempt_id}/{self.question_id}: {self.choice_ids}"

    @property
    def is_answered(self) -> bool:
        return bool(self.choice_ids)
