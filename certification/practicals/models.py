"""Practical skill assessments (实操考核): a checklist per service item, scored by an assigned assessor."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.models import Orderable

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class PracticalTemplate(ClusterableModel):
    service_item = models.ForeignKey(
        "content.ServiceItem",
        on_delete=models.PROTECT,
        related_name="practical_templates",
        verbose_name=_("service item"),
    )
    title = models.CharField(_("title"), max_length=120)
    instructions = models.TextField(_("instructions for the assessor"), blank=True)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"), default=60, validators=PERCENT)
    is_active = models.BooleanField(_("in use"), default=True)

    panels = [
        FieldPanel("service_item"),
        FieldPanel("title"),
        FieldPanel("instructions"),
        FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("is_active")]),
        InlinePanel("steps", label=_("steps"), min_num=1),
    ]

    class Meta:
        ordering = ["service_item__code", "title"]
        verbose_name = _("practical checklist")
        verbose_name_plural = _("practical checklists")

    def __str__(self):
        return self.title


class PracticalStep(Orderable):
    template = ParentalKey(PracticalTemplate, on_delete=models.CASCADE, related_name="steps")
    text = models.CharField(_("step"), max_length=300)
    points = models.PositiveSmallIntegerField(_("points"), default=10, validators=[MinValueValidator(1)])
    is_critical = models.BooleanField(
        _("critical step"),
        default=False,
        help_text=_("Anything short of full points on a critical step fails the whole item."),
    )

    panels = [FieldPanel("text"), FieldRowPanel([FieldPanel("points"), FieldPanel("is_critical")])]

    def __str__(self):
        return self.text


class PracticalAssessment(models.Model):
    """The assignment of a candidate to an assessor for one checklist, and once scored, its result."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        SCORED = "scored", _("Scored")

    template = models.ForeignKey(
        PracticalTemplate, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("checklist")
    )
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile",
        on_delete=models.PROTECT,
        related_name="practical_assessments",
        verbose_name=_("candidate"),
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="practical_assessments",
        verbose_name=_("assessor"),
        limit_choices_to={"role": "assessor", "is_active": True},
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    scheduled_on = models.DateField(_("scheduled on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ASSIGNED)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True)
    critical_failed = models.BooleanField(_("a critical step failed"), default=False)
    notes = models.TextField(_("assessor's notes"), blank=True)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)

    panels = [
        FieldPanel("template"),
        FieldPanel("caregiver"),
        FieldPanel("assessor"),
        FieldPanel("scheduled_on"),
    ]

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "caregiver"],
                condition=Q(status="assigned"),
                name="one_pending_practical_per_checklist",
            )
        ]
        indexes = [
            models.Index(fields=["assessor", "status"], name="practical_by_assessor"),
            models.Index(fields=["caregiver", "status", "scored_at"], name="practical_by_caregiver"),
        ]
        verbose_name = _("practical assessment")
        verbose_name_plural = _("practical assessments")

    def __str__(self):
        return f"{self.caregiver} · {self.template}"

    @property
    def eligible_score(self):
        """The score the star evaluation uses: a failed critical step fails the item, whatever the points."""
        if self.score is None:
            return None
        return 0 if self.critical_failed else self.score


class PracticalStepScore(models.Model):
    """One step as scored; text and points are copied so that a later edit of the checklist changes no result."""

    assessment = models.ForeignKey(PracticalAssessment, on_delete=models.CASCADE, related_name="step_scores")
    step = models.ForeignKey(PracticalStep, on_delete=models.SET_NULL, null=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(_("step"), max_length=300)
    max_points = models.PositiveSmallIntegerField(_("points"))
    is_critical = models.BooleanField(_("critical step"), default=False)
    points_awarded = models.PositiveSmallIntegerField(_("points awarded"))

    class Meta:
        ordering = ["assessment", "position"]

    def __str__(self):
        return f"{self.text}: {self.points_awarded}/{self.max_points}"

    @property
    def failed_critical(self) -> bool:
        return self.is_critical and self.points_awarded < self.max_points
