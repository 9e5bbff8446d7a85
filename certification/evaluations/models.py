"""Star-level evaluation (星级评定): evaluations and their review, appeals, rounds."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from ..rules.models import PERCENT, StarRuleSet


class EvaluationRound(models.Model):
    """Evaluations opened at once for a whole institution or county (a re-evaluation round, 复评批次)."""

    name = models.CharField(_("name"), max_length=120)
    institution = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("institution"),
    )
    county = models.ForeignKey(
        "accounts.County", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    closes_on = models.DateField(_("to be completed by"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(institution__isnull=True) | Q(county__isnull=True), name="round_one_scope"
            )
        ]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")

    def __str__(self):
        return self.name


class EvaluationQuerySet(models.QuerySet):
    def decided_latest_first(self):
        """Decisions, the one in force first: the latest decided (on a tie, the later row)."""
        return self.filter(status=Evaluation.Status.DECIDED).order_by("-decided_at", "-id")

    def in_force(self):
        """Only each caregiver's decision in force."""
        latest = Evaluation.objects.filter(caregiver_id=OuterRef("caregiver_id")).decided_latest_first()
        return self.filter(status=Evaluation.Status.DECIDED, pk=Subquery(latest.values("pk")[:1]))


class Evaluation(models.Model):
    """One star evaluation of one caregiver, from application to decision.

    A decided evaluation is a record: the database refuses any change to it (see migration 0007). An appeal or
    a downgrade that changes the level is a new evaluation that `revises` the decided one.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Waiting for an assessor")
        ASSIGNED = "assigned", _("With the assessor")
        PROPOSED = "proposed", _("Waiting for review")
        RETURNED = "returned", _("Returned to the assessor")
        DECIDED = "decided", _("Decided")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Source(models.TextChoices):
        APPLICATION = "application", _("Application by the caregiver")
        NOMINATION = "nomination", _("Nomination by the institution")
        ROUND = "round", _("Re-evaluation round")
        APPEAL = "appeal", _("Appeal")
        DOWNGRADE = "downgrade", _("Downgrade on service data")

    OPEN_STATUSES = (Status.APPLIED, Status.ASSIGNED, Status.PROPOSED, Status.RETURNED)

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("caregiver")
    )
    source = models.CharField(_("started by"), max_length=20, choices=Source.choices, default=Source.APPLICATION)
    revises = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisions",
        verbose_name=_("revises the decision"),
    )
    round = models.ForeignKey(
        EvaluationRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("round"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    request_note = models.TextField(_("note with the request"), blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations_assessed",
        verbose_name=_("assessor"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    rule_set = models.ForeignKey(
        StarRuleSet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("rule set"),
    )
    practical_score = models.PositiveSmallIntegerField(
        _("practical assessment score"), null=True, blank=True, validators=PERCENT
    )
    observations = models.TextField(_("assessor's observations"), blank=True)
    computed_level = models.PositiveSmallIntegerField(_("computed star level"), default=0)
    level = models.PositiveSmallIntegerField(_("star level"), null=True, blank=True, validators=[MaxValueValidator(5)])
    reason = models.TextField(_("reason for a lower level"), blank=True)
    criteria_snapshot = models.JSONField(_("criteria as evaluated"), default=dict, blank=True)
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations_reviewed",
        verbose_name=_("reviewer"),
    )
    review_note = models.TextField(_("reviewer's note"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.APPLIED)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    appeal_until = models.DateField(_("appeal possible until"), null=True, blank=True)
    re_evaluation_due_on = models.DateField(_("re-evaluation due on"), null=True, blank=True, db_index=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["caregiver", "status", "decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__isnull=True) | Q(level__lte=F("computed_level")), name="level_at_most_computed"
            ),
            # No one reviews their own proposal, whatever a form lets through.
            models.CheckConstraint(
                condition=Q(reviewer__isnull=True) | ~Q(reviewer=F("assessor")), name="evaluation_no_self_review"
            ),
            models.CheckConstraint(
                condition=~Q(status="decided") | (Q(level__isnull=False) & Q(decided_at__isnull=False)),
                name="decided_evaluation_complete",
            ),
            models.UniqueConstraint(
                fields=["caregiver"],
                condition=Q(status__in=["applied", "assigned", "proposed", "returned"]),
                name="one_open_evaluation_per_caregiver",
            ),
        ]
        verbose_name = _("star evaluation")
        verbose_name_plural = _("star evaluations")

    def __str__(self):
        level = f"{self.level}★" if self.level is not None else self.get_status_display()
        return f"{self.caregiver} · {level}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def stars(self) -> str:
        return "★" * (self.level or 0)


class Appeal(models.Model):
    """A caregiver contests a decision (申诉); someone other than the first assessor decides it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld: level changed")
        DISMISSED = "dismissed", _("Dismissed")

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("decision appealed")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )
    grounds = models.TextField(_("grounds"))
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("reasons for the decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    result = models.OneToOneField(
        Evaluation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeal_result_of",
        verbose_name=_("new decision"),
    )

    class Meta:
        ordering = ["-filed_at"]
        constraints = [
            # One appeal per decision: a second would re-open what the first one settled.
            models.UniqueConstraint(fields=["evaluation"], name="one_appeal_per_decision")
        ]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")

    def __str__(self):
        return f"{self.evaluation} · {self.get_status_display()}"
