"""The star-level engine over a whole population, set-based: one query however many caregivers.

`star_levels_population` annotates each caregiver with the facts `caregiver_facts` gathers and with the level
`star_level_compute` would compute from them, the way the engine does it: the windows come from `windows_for`,
levels are cumulative, a failed critical practical step counts as 0, the satisfaction rate is a percentage rounded
half-to-even to 0.01. The computed level is worked out in SQL, exactly (no floating point decides a criterion),
on SQLite and PostgreSQL alike.

How the level is computed. For each criterion, its *reach* is the highest level up to which the criterion is met
at every level (0 when it fails level 1); the computed level is the least reach of all criteria. Each reach is one
correlated subquery per table (the CASE over the levels is evaluated inside it, on its aggregates), so that
every table is read once per caregiver for the level: referring to the fact annotations instead would repeat each
subquery once per level. The fact annotations are separate subqueries over the same filtered rows, read only when
selected (`values_list("computed_level")` does not read them).
"""

import datetime
import operator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, ExtractYear, Least, Round
from django.utils import timezone

from accounts.models import CaregiverProfile
from training.models import Enrollment, TrainingHoursEntry

from ..models import ExamAttempt, PracticalAssessment, ServiceIncident, ServiceMonth
from .eligibility import Windows, windows_for
from .models import PRACTITIONER_RANK, StarLevelRule, StarRuleSet

SCORE = DecimalField(max_digits=5, decimal_places=1)
HOURS = DecimalField(max_digits=9, decimal_places=1)
PERCENT = DecimalField(max_digits=5, decimal_places=2)
COMPARISONS = {"gte": operator.ge, "lte": operator.le}


# --- The levels as cumulative requirements ----------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """One fact compared with a bound: `fact >= bound` ("gte") or `fact <= bound` ("lte")."""

    fact: str
    comparison: str
    bound: object


def _cumulative(levels: list[list[Bound]]) -> list[dict[str, Bound]]:
    """For each level, what passing it *and every level below it* asks of each fact: the strictest bound so far."""
    strictest: dict[str, Bound] = {}
    result = []
    for bounds in levels:
        for bound in bounds:
            held = strictest.get(bound.fact)
            stricter = max if bound.comparison == "gte" else min
            strictest[bound.fact] = (
                bound if held is None else Bound(bound.fact, bound.comparison, stricter(held.bound, bound.bound))
            )
        result.append(dict(strictest))
    return result


class Criterion:
    """One criterion (or a group read from the same table) over the levels of a rule set."""

    def __init__(self, level_numbers: list[int], levels: list[list[Bound]]):
        self.level_numbers = level_numbers
        self.cumulative = _cumulative(levels)

    @property
    def always_met(self) -> bool:
        return not any(self.cumulative)

    def reach(self) -> Case | Value:
        """SQL: the highest level up to which the criterion is met at every level, else 0."""
        whens = []
        for number, bounds in zip(reversed(self.level_numbers), reversed(self.cumulative), strict=True):
            if not bounds:
                # Nothing asked up to here: every level from here down is met.
                return Case(*whens, default=Value(number)) if whens else Value(number)
            condition = Q(**{f"{b.fact}__{b.comparison}": b.bound for b in bounds.values()})
            whens.append(When(condition, then=Value(number)))
        return Case(*whens, default=Value(0), output_field=IntegerField())

    def reach_of(self, facts: dict) -> int:
        """Python: the same reach for given fact values (for a caregiver with no rows in the table)."""
        reached = 0
        for number, bounds in zip(self.level_numbers, self.cumulative, strict=True):
            for bound in bounds.values():
                value = facts[bound.fact]
                if value is None or not COMPARISONS[bound.comparison](value, bound.bound):
                    return reached
            reached = number
        return reached


# --- The rows each fact is read from ----------------------------------------------------------------------


def _per_caregiver(queryset: QuerySet, **aggregates) -> QuerySet:
    """One row of aggregates for the outer caregiver (none when they have no rows)."""
    return queryset.filter(caregiver=OuterRef("pk")).values("caregiver").annotate(**aggregates)


def _hours(windows: Windows) -> QuerySet:
    entries = TrainingHoursEntry.objects.all()
    if windows.training_hours_since is not None:
        entries = entries.filter(earned_on__gte=windows.training_hours_since)
    return entries


def _hours_aggregates() -> dict:
    # Compared in tenths of an hour: SQLite adds decimals as binary floats, and ten 0.1-hour entries must reach 1.
    return {"hours_tenths": Sum(Round(F("hours") * Value(10)), output_field=IntegerField())}


def _best_theory() -> dict:
    return {"best_theory": Max("score")}


def _latest_practical() -> QuerySet:
    """The practical `practical_latest` picks, with the score the evaluation uses (eligible_score)."""
    return (
        PracticalAssessment.objects.filter(caregiver=OuterRef("pk"), status=PracticalAssessment.Status.SCORED)
        .order_by("-scored_at", "-id")
        .annotate(
            eligible_score=Case(
                When(score__isnull=True, then=Value(None)),
                When(critical_failed=True, then=Value(Decimal("0"))),
                default=F("score"),
                output_field=SCORE,
            )
        )
    )


def _service(windows: Windows) -> QuerySet:
    return ServiceMonth.objects.filter(month__gt=windows.service_after)


def _service_aggregates() -> dict:
    """Surveys and the satisfaction rate in hundredths of a percent, rounded half-to-even like Decimal.quantize.

    With q, r the quotient and remainder of 10000·satisfied ÷ surveys (integers), the rate rounds up when
    2r > surveys, or 2r = surveys and q is odd. None when no survey came back.
    """
    surveys = Sum("surveys")
    scaled = Value(10000) * Sum("satisfied")
    quotient = scaled / surveys
    remainder = scaled - quotient * surveys
    rounds_up = Q(surveys_sum__lt=Value(2) * remainder) | (Q(surveys_sum=Value(2) * remainder) & Q(quotient_odd=1))
    return {
        "surveys_sum": surveys,
        "quotient_odd": ExpressionWrapper(quotient - Value(2) * (quotient / Value(2)), output_field=IntegerField()),
        "rate_hundredths": Case(
            When(surveys_sum=0, then=Value(None)),
            When(rounds_up, then=quotient + Value(1)),
            default=quotient,
            output_field=IntegerField(),
        ),
    }


def _incidents() -> QuerySet:
    return ServiceIncident.objects.filter(substantiated=True)


def _incident_aggregates(windows: Windows) -> dict:
    kinds = ServiceIncident.Kind
    return {
        "complaints": Count(
            "pk", filter=Q(kind=kinds.COMPLAINT, occurred_on__gt=windows.service_after), output_field=IntegerField()
        ),
        "accidents": Count(
            "pk",
            filter=Q(kind=kinds.LIABILITY_ACCIDENT, occurred_on__gt=windows.disqualifiers_after),
            output_field=IntegerField(),
        ),
        "breaches": Count(
            "pk",
            filter=Q(kind=kinds.ETHICS_BREACH, occurred_on__gt=windows.disqualifiers_after),
            output_field=IntegerField(),
        ),
    }


def _completions(course_ids: set[int]) -> QuerySet:
    return Enrollment.objects.filter(completed_at__isnull=False, course_id__in=sorted(course_ids))


def _years_of_service(today: datetime.date):
    """`completed_years(employed_since, today)` in SQL: a year counts once its anniversary has come."""
    before_anniversary = Q(employed_since__month__gt=today.month) | Q(
        employed_since__month=today.month, employed_since__day__gt=today.day
    )
    return ExpressionWrapper(
        Value(today.year)
        - ExtractYear("employed_since")
        - Case(When(before_anniversary, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )


def _practitioner_rank():
    return Case(
        *(When(practitioner_level=level, then=Value(rank)) for level, rank in PRACTITIONER_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


# --- The engine -------------------------------------------------------------------------------------------


class _Ladder:
    """A rule set's levels, read once, as the bounds each table's facts must meet level by level."""

    def __init__(self, rule_set: StarRuleSet):
        prefetch_related_objects([rule_set], "levels__required_courses")
        # Ordered as star_level_compute walks them.
        self.rules: list[StarLevelRule] = sorted(rule_set.levels.all(), key=lambda rule: rule.level)
        self.numbers = [rule.level for rule in self.rules]
        self.required = [{course.pk for course in rule.required_courses.all()} for rule in self.rules]
        self.all_required = set().union(*self.required)

    def criterion(self, bounds_for) -> Criterion:
        return Criterion(self.numbers, [bounds_for(index, rule) for index, rule in enumerate(self.rules)])

    def course_sets(self) -> list[frozenset[int]]:
        """The union of the required courses up to each level, distinct and in level order."""
        sets, union = [], set()
        for required in self.required:
            union |= required
            if union and frozenset(union) not in sets:
                sets.append(frozenset(union))
        return sets


def _reach_subquery(rows: QuerySet, criterion: Criterion, no_rows: dict):
    """The criterion's reach computed inside `rows` (one row per caregiver); `no_rows`: the facts with no rows."""
    return Coalesce(
        Subquery(rows.annotate(reach=criterion.reach()).values("reach")[:1], output_field=IntegerField()),
        Value(criterion.reach_of(no_rows)),
    )


def star_levels_population(
    *, rule_set: StarRuleSet, today: datetime.date | None = None, caregivers: QuerySet | None = None
) -> QuerySet:
    """Caregivers (all, or those of `caregivers`) annotated with their facts and `computed_level` under the rule set.

    Facts: training_hours, theory_score, practical_score (None before the first practical), years_of_service,
    practitioner_rank, surveys, satisfaction_rate (None when no survey came back), substantiated_complaints,
    liability_accidents, ethics_breaches, required_courses_completed (of all the rule set's required courses).
    Costs the queries that read the rule set (none when its levels and their courses are prefetched) and one.
    """
    today = today or timezone.localdate()
    windows = windows_for(rule_set=rule_set, today=today)
    ladder = _Ladder(rule_set)
    caregivers = (caregivers if caregivers is not None else CaregiverProfile.objects.all()).order_by("pk")

    facts = {
        "training_hours": Coalesce(
            Subquery(_per_caregiver(_hours(windows), total=Sum("hours")).values("total"), output_field=HOURS),
            Value(Decimal("0")),
            output_field=HOURS,
        ),
        "theory_score": Coalesce(
            Subquery(_per_caregiver(ExamAttempt.objects.filter(passed=True), **_best_theory()).values("best_theory")),
            Value(Decimal("0")),
            output_field=SCORE,
        ),
        "practical_score": Subquery(_latest_practical().values("eligible_score")[:1], output_field=SCORE),
        "years_of_service": _years_of_service(today),
        "practitioner_rank": _practitioner_rank(),
        "surveys": Coalesce(
            Subquery(_per_caregiver(_service(windows), total=Sum("surveys")).values("total")), Value(0)
        ),
        "satisfaction_rate": Subquery(
            _per_caregiver(_service(windows), **_service_aggregates())
            .annotate(rate=ExpressionWrapper(F("rate_hundredths") * Value(Decimal("0.01")), output_field=PERCENT))
            .values("rate"),
            output_field=PERCENT,
        ),
        **{
            name: Coalesce(
                Subquery(_per_caregiver(_incidents(), **_incident_aggregates(windows)).values(aggregate)), Value(0)
            )
            for name, aggregate in [
                ("substantiated_complaints", "complaints"),
                ("liability_accidents", "accidents"),
                ("ethics_breaches", "breaches"),
            ]
        },
        "required_courses_completed": Coalesce(
            Subquery(_per_caregiver(_completions(ladder.all_required), done=Count("pk")).values("done")), Value(0)
        )
        if ladder.all_required
        else Value(0),
    }
    return caregivers.annotate(**facts).annotate(computed_level=_computed_level(ladder, windows, today))


def _computed_level(ladder: _Ladder, windows: Windows, today: datetime.date):
    if not ladder.rules:
        return Value(0, output_field=IntegerField())
    reaches = []

    hours = ladder.criterion(lambda _, rule: [Bound("hours_tenths", "gte", int(rule.min_training_hours * 10))])
    reaches.append(_reach_subquery(_per_caregiver(_hours(windows), **_hours_aggregates()), hours, {"hours_tenths": 0}))

    theory = ladder.criterion(lambda _, rule: [Bound("best_theory", "gte", rule.min_theory_score)])
    reaches.append(
        _reach_subquery(
            _per_caregiver(ExamAttempt.objects.filter(passed=True), **_best_theory()), theory, {"best_theory": 0}
        )
    )

    practical = ladder.criterion(lambda _, rule: [Bound("practical_or_zero", "gte", rule.min_practical_score)])
    reaches.append(
        _reach_subquery(
            _latest_practical().annotate(
                practical_or_zero=Coalesce(F("eligible_score"), Value(Decimal("0")), output_field=SCORE)
            ),
            practical,
            {"practical_or_zero": 0},
        )
    )

    satisfaction = ladder.criterion(
        lambda _, rule: (
            [Bound("rate_hundredths", "gte", int(rule.min_satisfaction_rate * 100))]
            if rule.min_satisfaction_rate
            else []
        )
    )
    if not satisfaction.always_met:
        reaches.append(
            _reach_subquery(
                _per_caregiver(_service(windows), **_service_aggregates()), satisfaction, {"rate_hundredths": None}
            )
        )

    def incident_bounds(_, rule: StarLevelRule) -> list[Bound]:
        bounds = []
        if rule.max_substantiated_complaints is not None:
            bounds.append(Bound("complaints", "lte", rule.max_substantiated_complaints))
        if rule.barred_by_liability_accident:
            bounds.append(Bound("accidents", "lte", 0))
        if rule.barred_by_ethics_breach:
            bounds.append(Bound("breaches", "lte", 0))
        return bounds

    incidents = ladder.criterion(incident_bounds)
    if not incidents.always_met:
        reaches.append(
            _reach_subquery(
                _per_caregiver(_incidents(), **_incident_aggregates(windows)),
                incidents,
                {"complaints": 0, "accidents": 0, "breaches": 0},
            )
        )

    course_sets = ladder.course_sets()
    if course_sets:
        names = {courses: f"done_{number}" for number, courses in enumerate(course_sets)}

        def course_bounds(index: int, _) -> list[Bound]:
            union = frozenset().union(*ladder.required[: index + 1])
            return [Bound(names[union], "gte", len(union))] if union else []

        completions = _per_caregiver(
            _completions(ladder.all_required),
            **{name: Count("pk", filter=Q(course_id__in=sorted(courses))) for courses, name in names.items()},
        )
        reaches.append(
            _reach_subquery(completions, ladder.criterion(course_bounds), {name: 0 for name in names.values()})
        )

    # Columns of the caregiver's own row: no subquery needed.
    years = ladder.criterion(lambda _, rule: [Bound("years_of_service", "gte", rule.min_years_of_service)])
    rank = ladder.criterion(
        lambda _, rule: [Bound("practitioner_rank", "gte", PRACTITIONER_RANK[rule.min_practitioner_level])]
    )
    reaches += [years.reach(), rank.reach()]
    return Least(*reaches, output_field=IntegerField())


def star_level_distribution(
    *,
    rule_set: StarRuleSet,
    today: datetime.date | None = None,
    caregivers: QuerySet | None = None,
    by_county: bool = False,
) -> dict:
    """How many caregivers each computed level holds: {level: count} with every level of the rule set and 0, or
    with `by_county` {county_id: {level: count}} for the counties that have caregivers. One query."""
    population = star_levels_population(rule_set=rule_set, today=today, caregivers=caregivers)
    empty = {0: 0, **{rule.level: 0 for rule in rule_set.levels.all()}}
    if not by_county:
        rows = population.order_by().values("computed_level").annotate(n=Count("pk"))
        return {**empty, **dict(rows.values_list("computed_level", "n"))}
    rows = population.order_by().values("institution__county_id", "computed_level").annotate(n=Count("pk"))
    result: dict[int, dict[int, int]] = {}
    for row in rows.values_list("institution__county_id", "computed_level", "n"):
        county_id, level, count = row
        result.setdefault(county_id, dict(empty))[level] = count
    return result
