"""Star-level rule sets (星级评定规则): versioned, effective-dated criteria per level."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
STAR_LEVEL = [MinValueValidator(1), MaxValueValidator(5)]
# Practitioner levels rank 五级 < 四级 < 三级 (level 3 is the highest of the three).
PRACTITIONER_RANK = {0: 0, 5: 1, 4: 2, 3: 3}


class StarRuleSet(ClusterableModel):
    """A versioned set of criteria per star level, in force from its effective date until the next version's.

    A version that an evaluation has used is frozen: changes are made in a new version (copy it in the admin).
    """

    name = models.CharField(_("name"), max_length=120)
    version = models.CharField(_("version"), max_length=20)
    effective_from = models.DateField(_("effective from"))
    is_illustrative = models.BooleanField(
        _("illustrative"), default=False, help_text=_("Example numbers, not taken from an adopted standard.")
    )
    training_hours_window_years = models.PositiveSmallIntegerField(
        _("training hours counted over (years)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Count only hours earned in the last N years. Leave blank to count every hour."),
    )
    service_window_months = models.PositiveSmallIntegerField(
        _("satisfaction and complaints counted over (months)"), default=12, validators=[MinValueValidator(1)]
    )
    disqualifier_window_years = models.PositiveSmallIntegerField(
        _("disqualifiers counted over (years)"), default=3, validators=[MinValueValidator(1)]
    )
    appeal_window_days = models.PositiveSmallIntegerField(
        _("appeal window (days)"), default=30, validators=[MinValueValidator(1)]
    )
    re_evaluation_months = models.PositiveSmallIntegerField(
        _("re-evaluation due after (months)"), default=24, validators=[MinValueValidator(1)]
    )
    notes = models.TextField(_("notes"), blank=True)

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("version"), FieldPanel("effective_from")]),
        FieldPanel("is_illustrative"),
        MultiFieldPanel(
            [
                FieldPanel("training_hours_window_years"),
                FieldPanel("service_window_months"),
                FieldPanel("disqualifier_window_years"),
            ],
            heading=_("Periods counted"),
        ),
        FieldRowPanel([FieldPanel("appeal_window_days"), FieldPanel("re_evaluation_months")]),
        FieldPanel("notes"),
        InlinePanel("levels", label=_("criteria per star level"), min_num=1, max_num=5),
    ]

    class Meta:
        ordering = ["-effective_from", "-id"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="rule_set_version_unique")]
        verbose_name = _("star-level rule set")
        verbose_name_plural = _("star-level rule sets")

    def __str__(self):
        return f"{self.name} {self.version}"


class StarLevelRule(ClusterableModel):
    class PractitionerLevel(models.IntegerChoices):
        NONE = 0, _("None")
        LEVEL_5 = 5, _("Level 5")
        LEVEL_4 = 4, _("Level 4")
        LEVEL_3 = 3, _("Level 3")

    rule_set = ParentalKey(StarRuleSet, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField(_("star level"), validators=STAR_LEVEL)
    min_training_hours = models.DecimalField(_("minimum training hours"), max_digits=6, decimal_places=1, default=0)
    min_theory_score = models.PositiveSmallIntegerField(_("minimum theory score"), default=0, validators=PERCENT)
    min_practical_score = models.PositiveSmallIntegerField(_("minimum practical score"), default=0, validators=PERCENT)
    min_years_of_service = models.PositiveSmallIntegerField(_("minimum years of service"), default=0)
    min_satisfaction_rate = models.DecimalField(
        _("minimum service satisfaction (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    max_substantiated_complaints = models.PositiveSmallIntegerField(
        _("most substantiated complaints allowed"),
        null=True,
        blank=True,
        help_text=_("Leave blank for no limit."),
    )
    min_practitioner_level = models.PositiveSmallIntegerField(
        _("LTC practitioner level required"), choices=PractitionerLevel.choices, default=PractitionerLevel.NONE
    )
    required_courses = ParentalManyToManyField(
        "training.CoursePage", blank=True, related_name="+", verbose_name=_("courses that must be completed")
    )
    barred_by_liability_accident = models.BooleanField(_("barred by a liability accident"), default=True)
    barred_by_ethics_breach = models.BooleanField(_("barred by an ethics breach"), default=True)

    panels = [
        FieldPanel("level"),
        FieldRowPanel(
            [FieldPanel("min_training_hours"), FieldPanel("min_theory_score"), FieldPanel("min_practical_score")]
        ),
        FieldRowPanel([FieldPanel("min_years_of_service"), FieldPanel("min_practitioner_level")]),
        FieldRowPanel([FieldPanel("min_satisfaction_rate"), FieldPanel("max_substantiated_complaints")]),
        FieldPanel("required_courses"),
        FieldRowPanel([FieldPanel("barred_by_liability_accident"), FieldPanel("barred_by_ethics_breach")]),
    ]

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["rule_set", "level"], name="rule_level_unique")]

    def __str__(self):
        return f"{self.rule_set} · {self.level}★"
