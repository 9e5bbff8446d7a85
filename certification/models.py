from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel

# Exams and practical assessments live in their own modules; these names stay importable from here.
from .exams.models import (  # noqa: F401
    AttemptAnswer,
    Choice,
    Difficulty,
    Exam,
    ExamAttempt,
    ExamOverride,
    ExamQuestion,
    ExamSection,
    Question,
)
from .practicals.models import (  # noqa: F401
    PracticalAssessment,
    PracticalStep,
    PracticalStepScore,
    PracticalTemplate,
)

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
STAR_LEVEL = [MinValueValidator(1), MaxValueValidator(5)]


# --- Star-level rule sets and evaluations ------------------------------------------------------------


class StarRuleSet(ClusterableModel):
    """A versioned set of criteria per star level; an evaluation records the version it used."""

    name = models.CharField(_("name"), max_length=120)
    version = models.CharField(_("version"), max_length=20)
    effective_from = models.DateField(_("effective from"))
    is_illustrative = models.BooleanField(
        _("illustrative"), default=False, help_text=_("Example numbers, not taken from an adopted standard.")
    )
    notes = models.TextField(_("notes"), blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("version"),
        FieldPanel("effective_from"),
        FieldPanel("is_illustrative"),
        FieldPanel("notes"),
        InlinePanel("levels", label=_("criteria per star level"), min_num=1, max_num=5),
    ]

    class Meta:
        ordering = ["-effective_from"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="rule_set_version_unique")]
        verbose_name = _("star-level rule set")
        verbose_name_plural = _("star-level rule sets")

    def __str__(self):
        return f"{self.name} {self.version}"


class StarLevelRule(models.Model):
    rule_set = ParentalKey(StarRuleSet, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField(_("star level"), validators=STAR_LEVEL)
    min_training_hours = models.DecimalField(_("minimum training hours"), max_digits=6, decimal_places=1, default=0)
    min_theory_score = models.PositiveSmallIntegerField(_("minimum theory score"), default=0, validators=PERCENT)
    min_practical_score = models.PositiveSmallIntegerField(_("minimum practical score"), default=0, validators=PERCENT)
    min_years_of_service = models.PositiveSmallIntegerField(_("minimum years of service"), default=0)
    min_practitioner_level = models.PositiveSmallIntegerField(
        _("LTC practitioner level required"),
        choices=[(0, _("None")), (5, _("Level 5")), (4, _("Level 4")), (3, _("Level 3"))],
        default=0,
    )

    panels = [
        FieldPanel("level"),
        FieldPanel("min_training_hours"),
        FieldPanel("min_theory_score"),
        FieldPanel("min_practical_score"),
        FieldPanel("min_years_of_service"),
        FieldPanel("min_practitioner_level"),
    ]

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["rule_set", "level"], name="rule_level_unique")]

    def __str__(self):
        return f"{self.rule_set} · {self.level}★"


class Evaluation(models.Model):
    class Status(models.TextChoices):
        DECIDED = "decided", _("Decided")

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("caregiver")
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="evaluations_assessed",
        verbose_name=_("assessor"),
    )
    rule_set = models.ForeignKey(
        StarRuleSet, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("rule set")
    )
    practical_score = models.PositiveSmallIntegerField(_("practical assessment score"), validators=PERCENT)
    computed_level = models.PositiveSmallIntegerField(_("computed star level"), default=0)
    level = models.PositiveSmallIntegerField(_("star level awarded"), validators=STAR_LEVEL)
    reason = models.TextField(_("reason for a lower level"), blank=True)
    criteria_snapshot = models.JSONField(_("criteria as evaluated"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DECIDED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(level__lte=models.F("computed_level")), name="level_at_most_computed")
        ]
        verbose_name = _("star evaluation")
        verbose_name_plural = _("star evaluations")

    def __str__(self):
        return f"{self.caregiver} · {self.level}★"


# --- Certificates -------------------------------------------------------------------------------------


def certificate_storage():
    # Private storage: certificate PDFs are served only through permission-checked views.
    return storages["certificates"]


class SerialCounter(models.Model):
    """The last serial number issued per region and year; bumped in the issuing transaction, so no gaps."""

    region = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="serial_counter_unique")]

    def __str__(self):
        return f"{self.region}-{self.year}: {self.last_value}"


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    # One certificate per decision, whatever the queue redelivers: the database holds the rule.
    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, related_name="certificate", verbose_name=_("evaluation")
    )
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="certificates", verbose_name=_("holder")
    )
    serial_number = models.CharField(_("serial number"), max_length=32, unique=True)
    verification_code = models.CharField(_("verification code"), max_length=32, unique=True)
    # Frozen at issue: what the PDF says, even if the profile changes later.
    holder_name = models.CharField(_("holder name"), max_length=50)
    holder_national_id_masked = models.CharField(_("identity card number (masked)"), max_length=18)
    star_level = models.PositiveSmallIntegerField(_("star level"), validators=STAR_LEVEL)
    issuer = models.CharField(_("issuer"), max_length=120)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.VALID)
    pdf = models.FileField(_("PDF"), storage=certificate_storage, upload_to="%Y")
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"])]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self):
        return self.serial_number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("certification:verify", kwargs={"code": self.verification_code})

    @property
    def stars(self) -> str:
        return "★" * self.star_level

    @property
    def verify_url(self) -> str:
        return f"{settings.SITE_URL}{self.get_absolute_url()}"
