import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .blocks import LessonBodyBlock


class CourseIndexPage(Page):
    """The root of one training body's courses: its group may edit only below this page."""

    training_body = models.OneToOneField(
        "accounts.TrainingBody",
        on_delete=models.PROTECT,
        related_name="course_index",
        verbose_name=_("training body"),
    )
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("training_body"), FieldPanel("intro")]
    parent_page_types = ["content.HomePage"]
    subpage_types = ["training.CoursePage"]

    class Meta:
        verbose_name = _("course index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["courses"] = CoursePage.objects.child_of(self).live().specific().order_by("title")
        return context


STAR_LEVELS = [MinValueValidator(1), MaxValueValidator(5)]
STAR_LEVEL_CHOICES = [(level, "★" * level) for level in range(1, 6)]


class CoursePage(Page):
    summary = models.CharField(_("summary"), max_length=300)
    objectives = RichTextField(_("learning objectives"), blank=True)
    hours = models.DecimalField(
        _("training hours"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text=_("1 training hour (学时) = 45 minutes."),
    )
    star_level_min = models.PositiveSmallIntegerField(
        _("lowest target star level"), choices=STAR_LEVEL_CHOICES, default=1, validators=STAR_LEVELS
    )
    star_level_max = models.PositiveSmallIntegerField(
        _("highest target star level"), choices=STAR_LEVEL_CHOICES, default=5, validators=STAR_LEVELS
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cover image"),
    )
    prerequisites = ParentalManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="required_by",
        verbose_name=_("prerequisite courses"),
        help_text=_("Courses a caregiver must have completed before enrolling in this one."),
    )
    service_items = ParentalManyToManyField(
        "content.ServiceItem", blank=True, related_name="courses", verbose_name=_("service items taught")
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("objectives"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [
                FieldPanel("hours"),
                FieldRowPanel([FieldPanel("star_level_min"), FieldPanel("star_level_max")]),
            ],
            heading=_("Hours and target star levels"),
        ),
        FieldPanel("service_items"),
        FieldPanel("prerequisites"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("objectives"),
        index.FilterField("star_level_min"),
        index.FilterField("star_level_max"),
    ]
    parent_page_types = ["training.CourseIndexPage"]
    subpage_types = ["training.LessonPage"]

    class Meta:
        verbose_name = _("course")

    def clean(self):
        super().clean()
        if self.star_level_min and self.star_level_max and self.star_level_min > self.star_level_max:
            raise ValidationError(
                {"star_level_max": _("The highest target star level cannot be below the lowest one.")}
            )
        if self.pk and any(course.pk == self.pk for course in self.prerequisites.all()):
            raise ValidationError({"prerequisites": _("A course cannot be its own prerequisite.")})

    @property
    def star_levels(self) -> range:
        return range(self.star_level_min, self.star_level_max + 1)

    def lessons(self):
        return LessonPage.objects.child_of(self).live().order_by("path")


class LessonPage(Page):
    minutes = models.PositiveSmallIntegerField(
        _("study time in minutes"),
        default=45,
        validators=[MinValueValidator(1)],
        help_text=_("45 minutes earn one training hour."),
    )
    body = StreamField(LessonBodyBlock(), verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("minutes"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["training.CoursePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("lesson")

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / Decimal(45)).quantize(Decimal("0.1"))

    @cached_property
    def course(self) -> "CoursePage":
        return CoursePage.objects.get(path=self.path[: -self.steplen])


class Enrollment(models.Model):
    class Source(models.TextChoices):
        SELF = "self", _("Enrolled themselves")
        BATCH = "batch", _("Through a training batch")

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("caregiver")
    )
    course = models.ForeignKey(
        CoursePage, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("course")
    )
    source = models.CharField(_("enrolled"), max_length=10, choices=Source.choices, default=Source.SELF)
    batch = models.ForeignKey(
        "training.TrainingBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("training batch"),
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caregiver", "course"], name="enrollment_unique")]
        # The coverage report counts completed enrolments per course across every caregiver.
        indexes = [
            models.Index(
                fields=["course", "caregiver"], name="enrollment_completed_idx", condition=Q(completed_at__isnull=False)
            )
        ]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")

    def __str__(self):
        return f"{self.caregiver} · {self.course}"


class LessonCompletion(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="lesson_completions")
    lesson = models.ForeignKey(LessonPage, on_delete=models.PROTECT, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_completion_unique")]

    def __str__(self):
        return f"{self.enrollment} · {self.lesson}"


class LessonVisit(models.Model):
    """When an enrolled learner first opened a lesson: the server's clock, not the browser's, decides when
    the lesson may be marked as studied."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="lesson_visits")
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="visits")
    opened_at = models.DateTimeField(_("first opened at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "lesson"], name="lesson_visit_unique")]

    def __str__(self):
        return f"{self.enrollment} · {self.lesson}"


class TrainingHoursEntry(models.Model):
    """One line of the training-hours ledger (学时): how many hours, and where they came from."""

    class Source(models.TextChoices):
        LESSON = "lesson", _("Online lesson")
        BATCH_SESSION = "batch_session", _("Batch session attendance")
        ADJUSTMENT = "adjustment", _("Administrative adjustment")

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.CASCADE, related_name="hours_entries", verbose_name=_("caregiver")
    )
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    lesson_completion = models.OneToOneField(
        LessonCompletion, on_delete=models.PROTECT, null=True, blank=True, related_name="hours_entry"
    )
    # Hours for attending a batch session belong to that attendance: correcting the register removes them.
    attendance = models.OneToOneField(
        "training.SessionAttendance", on_delete=models.CASCADE, null=True, blank=True, related_name="hours_entry"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    earned_on = models.DateField(_("earned on"))

    class Meta:
        ordering = ["-earned_on", "-id"]
        indexes = [models.Index(fields=["caregiver", "earned_on"])]
        verbose_name = _("training hours entry")
        verbose_name_plural = _("training hours ledger")

    def __str__(self):
        return f"{self.caregiver} +{self.hours} ({self.get_source_display()})"


class TrainingBatch(ClusterableModel):
    """A class (培训批次) a training body runs for one course: dates, place, sessions and a roster."""

    training_body = models.ForeignKey(
        "accounts.TrainingBody", on_delete=models.PROTECT, related_name="batches", verbose_name=_("training body")
    )
    course = models.ForeignKey(CoursePage, on_delete=models.PROTECT, related_name="batches", verbose_name=_("course"))
    name = models.CharField(_("name"), max_length=120, help_text=_("For example: 2026 first batch, Zezhou County."))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveSmallIntegerField(_("places"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("training_body"),
        FieldPanel("course"),
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("starts_on"), FieldPanel("ends_on")]),
        FieldPanel("place"),
        FieldPanel("capacity"),
        FieldPanel("notes"),
        InlinePanel("sessions", label=_("sessions"), min_num=1),
    ]

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("training batch")
        verbose_name_plural = _("training batches")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
        if self.course_id and self.training_body_id:
            index = CourseIndexPage.objects.filter(training_body_id=self.training_body_id).first()
            if index is None or not self.course.is_descendant_of(index):
                raise ValidationError({"course": _("Choose one of this training body's own courses.")})


class BatchSession(Orderable):
    batch = ParentalKey(TrainingBatch, on_delete=models.CASCADE, related_name="sessions")
    topic = models.CharField(_("topic"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    hours = models.DecimalField(
        _("training hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text=_("Hours each attending caregiver earns (45 minutes = 1 hour)."),
    )

    panels = [
        FieldPanel("topic"),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldPanel("hours"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return f"{self.batch} · {self.topic}"

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A session must end after it starts.")})


class BatchMember(models.Model):
    """One line of a batch's roster. Being on the roster enrols the caregiver in the batch's course."""

    batch = models.ForeignKey(TrainingBatch, on_delete=models.CASCADE, related_name="members")
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="batch_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["batch", "caregiver"], name="batch_member_unique")]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")

    def __str__(self):
        return f"{self.batch} · {self.caregiver}"


class SessionAttendance(models.Model):
    # PROTECT: a session with a register cannot disappear with the hours it earned.
    session = models.ForeignKey(BatchSession, on_delete=models.PROTECT, related_name="attendances")
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="session_attendances"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "caregiver"], name="session_attendance_unique")]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")

    def __str__(self):
        return f"{self.session} · {self.caregiver}"


class CourseCitation(models.Model):
    """What each live course cites: the clauses quoted in its live lessons, the service items it teaches.

    Derived from the published pages (see `services.course_citations_refresh`) so that the coverage report
    is a join, not a walk through every lesson's StreamField.
    """

    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="citations")
    clause = models.ForeignKey(
        "content.Clause", on_delete=models.CASCADE, null=True, blank=True, related_name="course_citations"
    )
    service_item = models.ForeignKey(
        "content.ServiceItem", on_delete=models.CASCADE, null=True, blank=True, related_name="course_citations"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(clause__isnull=False, service_item__isnull=True)
                | Q(clause__isnull=True, service_item__isnull=False),
                name="course_citation_one_target",
            ),
            models.UniqueConstraint(fields=["course", "clause"], name="course_citation_clause_unique"),
            models.UniqueConstraint(fields=["course", "service_item"], name="course_citation_item_unique"),
        ]

    def __str__(self):
        return f"{self.course_id} → {self.clause_id or self.service_item_id}"


@register_setting(icon="cogs")
class TrainingSettings(BaseGenericSetting):
    required_courses = models.ManyToManyField(
        CoursePage,
        blank=True,
        related_name="+",
        verbose_name=_("required courses"),
        help_text=_("A caregiver has completed the required training once every one of these courses is complete."),
    )
    lesson_minimum_percent = models.PositiveSmallIntegerField(
        _("minimum time on a lesson (%)"),
        default=50,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "How long a learner must have had a lesson open before it can be marked as studied, as a share of "
            "its study time. 0 turns the check off."
        ),
    )

    panels = [FieldPanel("required_courses"), FieldPanel("lesson_minimum_percent")]

    class Meta:
        verbose_name = _("training settings")

    def lesson_minimum_seconds(self, lesson: LessonPage) -> int:
        return math.ceil(lesson.minutes * 60 * self.lesson_minimum_percent / 100)
