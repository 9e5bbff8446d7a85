"""The star-level engine: which level a caregiver's record supports under a rule set, and why."""

import datetime
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile
from training.selectors import caregiver_hours_total

from .models import ExamAttempt, StarRuleSet
from .practicals.selectors import practical_latest

PRACTITIONER_RANK = {0: 0, 5: 1, 4: 2, 3: 3}


@dataclass(frozen=True)
class CaregiverFacts:
    training_hours: Decimal
    theory_score: Decimal
    years_of_service: int
    practitioner_level: int
    # The latest practical assessment's score (0 when a critical step failed); None before the first one.
    practical_score: Decimal | None = None


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


def completed_years(since: datetime.date, today: datetime.date) -> int:
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def caregiver_facts(*, caregiver: CaregiverProfile, today: datetime.date | None = None) -> CaregiverFacts:
    today = today or timezone.localdate()
    best_score = ExamAttempt.objects.filter(caregiver=caregiver, passed=True).aggregate(best=Max("score"))["best"]
    practical = practical_latest(caregiver=caregiver)
    return CaregiverFacts(
        training_hours=caregiver_hours_total(caregiver=caregiver),
        theory_score=best_score or Decimal("0"),
        years_of_service=completed_years(caregiver.employed_since, today),
        practitioner_level=caregiver.practitioner_level,
        practical_score=practical.eligible_score if practical else None,
    )


def _practitioner_label(level: int) -> str:
    return _("none") if level == 0 else _("level %(level)s") % {"level": level}


def star_level_compute(
    *, facts: CaregiverFacts, rule_set: StarRuleSet, practical_score: int | Decimal | None = None
) -> Eligibility:
    """`practical_score` is the assessor's figure when given; otherwise the latest practical assessment's."""
    if practical_score is None:
        practical_score = facts.practical_score if facts.practical_score is not None else 0
    levels = []
    for rule in rule_set.levels.all():
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
        levels.append(LevelResult(rule.level, criteria))
    computed = max((level.level for level in levels if level.passed), default=0)
    return Eligibility(computed_level=computed, levels=levels)


def rule_set_current(*, on: datetime.date | None = None) -> StarRuleSet | None:
    on = on or timezone.localdate()
    return StarRuleSet.objects.filter(effective_from__lte=on).prefetch_related("levels").first()
