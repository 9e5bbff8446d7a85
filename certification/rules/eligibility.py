"""The star-level engine: which level a caregiver's record supports under a rule set, and why.

`caregiver_facts` gathers one caregiver's record; `star_level_compute` checks it against every level. The
population engine (rules/population.py) computes the same result for many caregivers at once, set-based.
"""

import datetime
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile
from training.models import Enrollment
from training.selectors import caregiver_hours_total

from ..dates import completed_years, months_before
from ..models import ExamAttempt, ServiceIncident, ServiceMonth
from ..practicals.selectors import practical_latest
from .models import PRACTITIONER_RANK, StarLevelRule, StarRuleSet

DEFAULT_SERVICE_WINDOW_MONTHS = 12
DEFAULT_DISQUALIFIER_WINDOW_YEARS = 3


@dataclass(frozen=True)
class CaregiverFacts:
    training_hours: Decimal
    theory_score: Decimal
    years_of_service: int
    practitioner_level: int
    # The latest practical assessment's score (0 when a critical step failed); None before the first one.
    practical_score: Decimal | None = None
    # Percent of satisfaction surveys returned "satisfied" in the window; None when none came back.
    satisfaction_rate: Decimal | None = None
    surveys: int = 0
    substantiated_complaints: int = 0
    liability_accidents: int = 0
    ethics_breaches: int = 0
    completed_course_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CriterionResult:
    key: str
    label: str
    required: str
    actual: str
    passed: bool


@dataclass(frozen=True)
class LevelResult:
    level: int
    criteria: list[CriterionResult]

    @property
    def passed(self) -> bool:
        return all(criterion.passed for criterion in self.criteria)


@dataclass(frozen=True)
class Eligibility:
    computed_level: int
    levels: list[LevelResult]

    def as_snapshot(self) -> dict:
        return {
            "computed_level": self.computed_level,
            "levels": [
                {"level": level.level, "criteria": [asdict(c) for c in level.criteria]} for level in self.levels
            ],
        }


def levels_from_snapshot(snapshot: dict) -> list[LevelResult]:
    """The levels of an evaluation's criteria snapshot (`Eligibility.as_snapshot`), to show as they were."""
    return [
        LevelResult(level["level"], [CriterionResult(**criterion) for criterion in level["criteria"]])
        for level in snapshot.get("levels", [])
    ]


@dataclass(frozen=True)
class Windows:
    """The first day counted for each criterion that looks back over a period (None: no limit)."""

    training_hours_since: datetime.date | None
    service_after: datetime.date
    disqualifiers_after: datetime.date


def windows_for(*, rule_set: StarRuleSet | None, today: datetime.date) -> Windows:
    hours_years = rule_set.training_hours_window_years if rule_set else None
    service_months = rule_set.service_window_months if rule_set else DEFAULT_SERVICE_WINDOW_MONTHS
    disqualifier_years = rule_set.disqualifier_window_years if rule_set else DEFAULT_DISQUALIFIER_WINDOW_YEARS
    return Windows(
        training_hours_since=months_before(today, 12 * hours_years) if hours_years else None,
        service_after=months_before(today, service_months),
        disqualifiers_after=months_before(today, 12 * disqualifier_years),
    )


def caregiver_facts(
    *, caregiver: CaregiverProfile, rule_set: StarRuleSet | None = None, today: datetime.date | None = None
) -> CaregiverFacts:
    """The caregiver's record as the rule set's periods count it (default periods without a rule set)."""
    today = today or timezone.localdate()
    windows = windows_for(rule_set=rule_set, today=today)
    best_score = ExamAttempt.objects.filter(caregiver=caregiver, passed=True).aggregate(best=Max("score"))["best"]
    practical = practical_latest(caregiver=caregiver)
    service = ServiceMonth.objects.filter(caregiver=caregiver, month__gt=windows.service_after).aggregate(
        surveys=Sum("surveys"), satisfied=Sum("satisfied")
    )
    surveys = service["surveys"] or 0
    incidents = ServiceIncident.objects.filter(caregiver=caregiver, substantiated=True).aggregate(
        complaints=Count("pk", filter=Q(kind=ServiceIncident.Kind.COMPLAINT, occurred_on__gt=windows.service_after)),
        accidents=Count(
            "pk",
            filter=Q(kind=ServiceIncident.Kind.LIABILITY_ACCIDENT, occurred_on__gt=windows.disqualifiers_after),
        ),
        breaches=Count(
            "pk", filter=Q(kind=ServiceIncident.Kind.ETHICS_BREACH, occurred_on__gt=windows.disqualifiers_after)
        ),
    )
    completed_courses = Enrollment.objects.filter(caregiver=caregiver, completed_at__isnull=False).values_list(
        "course_id", flat=True
    )
    return CaregiverFacts(
        training_hours=caregiver_hours_total(caregiver=caregiver, since=windows.training_hours_since),
        theory_score=best_score or Decimal("0"),
        years_of_service=completed_years(caregiver.employed_since, today),
        practitioner_level=caregiver.practitioner_level,
        practical_score=practical.eligible_score if practical else None,
        satisfaction_rate=satisfaction_percent(satisfied=service["satisfied"] or 0, surveys=surveys),
        surveys=surveys,
        substantiated_complaints=incidents["complaints"],
        liability_accidents=incidents["accidents"],
        ethics_breaches=incidents["breaches"],
        completed_course_ids=frozenset(completed_courses),
    )


def satisfaction_percent(*, satisfied: int, surveys: int) -> Decimal | None:
    if not surveys:
        return None
    return (Decimal(100) * satisfied / surveys).quantize(Decimal("0.01"))


def _practitioner_label(level: int) -> str:
    return _("none") if level == 0 else _("level %(level)s") % {"level": level}


def _level_criteria(rule: StarLevelRule, facts: CaregiverFacts, practical_score: Decimal) -> list[CriterionResult]:
    criteria = [
        CriterionResult(
            "training_hours",
            _("Cumulative training hours"),
            f"≥ {rule.min_training_hours}",
            str(facts.training_hours),
            facts.training_hours >= rule.min_training_hours,
        ),
        CriterionResult(
            "theory_score",
            _("Theory exam score"),
            f"≥ {rule.min_theory_score}",
            str(facts.theory_score),
            facts.theory_score >= rule.min_theory_score,
        ),
        CriterionResult(
            "practical_score",
            _("Practical assessment score"),
            f"≥ {rule.min_practical_score}",
            str(practical_score),
            practical_score >= rule.min_practical_score,
        ),
        CriterionResult(
            "years_of_service",
            _("Years of service"),
            f"≥ {rule.min_years_of_service}",
            str(facts.years_of_service),
            facts.years_of_service >= rule.min_years_of_service,
        ),
        CriterionResult(
            "practitioner_level",
            _("LTC practitioner level held"),
            _practitioner_label(rule.min_practitioner_level),
            _practitioner_label(facts.practitioner_level),
            PRACTITIONER_RANK[facts.practitioner_level] >= PRACTITIONER_RANK[rule.min_practitioner_level],
        ),
    ]
    if rule.min_satisfaction_rate:
        criteria.append(
            CriterionResult(
                "satisfaction_rate",
                _("Service satisfaction rate"),
                f"≥ {rule.min_satisfaction_rate}%",
                f"{facts.satisfaction_rate}% ({facts.surveys})"
                if facts.satisfaction_rate is not None
                else _("no surveys returned"),
                facts.satisfaction_rate is not None and facts.satisfaction_rate >= rule.min_satisfaction_rate,
            )
        )
    if rule.max_substantiated_complaints is not None:
        criteria.append(
            CriterionResult(
                "substantiated_complaints",
                _("Substantiated complaints"),
                f"≤ {rule.max_substantiated_complaints}",
                str(facts.substantiated_complaints),
                facts.substantiated_complaints <= rule.max_substantiated_complaints,
            )
        )
    required_courses = list(rule.required_courses.all())
    if required_courses:
        missing = [course.title for course in required_courses if course.pk not in facts.completed_course_ids]
        criteria.append(
            CriterionResult(
                "required_courses",
                _("Required courses completed"),
                "、".join(course.title for course in required_courses),
                _("missing: %(courses)s") % {"courses": "、".join(missing)} if missing else _("all completed"),
                not missing,
            )
        )
    if rule.barred_by_liability_accident:
        criteria.append(
            CriterionResult(
                "liability_accident",
                _("No liability accident"),
                "0",
                str(facts.liability_accidents),
                facts.liability_accidents == 0,
            )
        )
    if rule.barred_by_ethics_breach:
        criteria.append(
            CriterionResult(
                "ethics_breach", _("No ethics breach"), "0", str(facts.ethics_breaches), facts.ethics_breaches == 0
            )
        )
    return criteria


def star_level_compute(
    *, facts: CaregiverFacts, rule_set: StarRuleSet, practical_score: int | Decimal | None = None
) -> Eligibility:
    """The highest level whose criteria are all met, and each level's criteria with the data behind them.

    `practical_score` is the assessor's figure when given; otherwise the latest practical assessment's.
    Levels are cumulative: a level counts only when every level below it is met too.
    """
    if practical_score is None:
        practical_score = facts.practical_score if facts.practical_score is not None else 0
    levels = [LevelResult(rule.level, _level_criteria(rule, facts, practical_score)) for rule in rule_set.levels.all()]
    computed = 0
    for level in levels:
        if not level.passed:
            break
        computed = level.level
    return Eligibility(computed_level=computed, levels=levels)


def rule_set_current(*, on: datetime.date | None = None) -> StarRuleSet | None:
    """The rule set in force on a day: the latest version whose effective date has come."""
    on = on or timezone.localdate()
    return (
        StarRuleSet.objects.filter(effective_from__lte=on)
        .prefetch_related("levels__required_courses")
        .order_by("-effective_from", "-id")
        .first()
    )
