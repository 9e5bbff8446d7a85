from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
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
    service_items = ParentalManyToManyField(
        "content.ServiceItem", blank=True, related_name="courses", verbose_name=_("service items taught")
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("objectives"),
        FieldPanel("hours"),
        FieldPanel("service_items"),
    ]
    search_fields = Page.search_fields + [index.SearchField("summary"), index.SearchField("objectives")]
    parent_page_types = ["training.CourseIndexPage"]
    subpage_types = ["training.LessonPage"]

    class Meta:
        verbose_name = _("course")

    def lessons(self):
        return LessonPage.objects.child_of(self).live().specific().order_by("path")

    def get_context(self, request, *args, **kwargs):
        from .selectors import course_progress_for

        context = super().get_context(request, *args, **kwargs)
        context.update(course_progress_for(course=self, user=request.user))
        return context


class LessonPage(Page):
    minutes = models.PositiveSmallIntegerField(
        _("study time in minutes"), default=45, help_text=_("45 minutes earn one training hour.")
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

    def serve(self, request, *args, **kwargs):
        from .selectors import enrollment_for

        # Lessons are for enrolled learners; the course page explains how to enrol.
        if (
            not getattr(request, "is_preview", False)
            and enrollment_for(user=request.user, course_id=self.get_parent().id) is None
        ):
            return redirect(self.get_parent().url)
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from .selectors import lesson_navigation

        context = super().get_context(request, *args, **kwargs)
        context.update(lesson_navigation(lesson=self, user=request.user))
        return context


class Enrollment(models.Model):
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("caregiver")
    )
    course = models.ForeignKey(
        CoursePage, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("course")
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caregiver", "course"], name="enrollment_unique")]
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
    note = models.CharField(_("note"), max_length=200, blank=True)
    earned_on = models.DateField(_("earned on"))

    class Meta:
        ordering = ["-earned_on", "-id"]
        indexes = [models.Index(fields=["caregiver", "earned_on"])]
        verbose_name = _("training hours entry")
        verbose_name_plural = _("training hours ledger")

    def __str__(self):
        return f"{self.caregiver} +{self.hours} ({self.get_source_display()})"
