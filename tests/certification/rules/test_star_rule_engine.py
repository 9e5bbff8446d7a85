"""The engine's criteria beyond hours and scores: satisfaction, complaints, disqualifiers, required courses,
periods counted; the ladder check; which version is in force."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from certification.dates import months_before
from certification.models import ServiceIncident, StarLevelRule
from certification.rules.eligibility import caregiver_facts, rule_set_current, star_level_compute
from certification.rules.ladder import rule_levels_problems
from tests.factories.certification import rule_set
from tests.factories.servicedata import incident, service_month
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import Enrollment, TrainingHoursEntry

pytestmark = pytest.mark.django_db


def computed(caregiver, rules, practical_score=85):
    facts = caregiver_facts(caregiver=caregiver, rule_set=rules)
    return star_level_compute(facts=facts, rule_set=rules, practical_score=practical_score)


def criterion(eligibility, level, key):
    return next(c for c in eligibility.levels[level - 1].criteria if c.key == key)


def this_month(offset: int = 0) -> datetime.date:
    return months_before(timezone.localdate(), offset).replace(day=1)


def test_satisfaction_is_counted_over_the_service_window(qualified_caregiver, passed_exam, rules):
    StarLevelRule.objects.filter(rule_set=rules, level__gte=2).update(min_satisfaction_rate=Decimal("90"))
    assert computed(qualified_caregiver, rules).computed_level == 1
    assert criterion(computed(qualified_caregiver, rules), 2, "satisfaction_rate").actual == "无满意度回访"

    service_month(qualified_caregiver, month=this_month(1), surveys=10, satisfied=8)
    result = computed(qualified_caregiver, rules)
    assert result.computed_level == 1
    assert criterion(result, 2, "satisfaction_rate").actual.startswith("80.00%")

    # Two years ago does not count; this year's surveys bring the rate to 19 / 20.
    service_month(qualified_caregiver, month=this_month(24), surveys=50, satisfied=0)
    service_month(qualified_caregiver, month=this_month(2), surveys=10, satisfied=10)
    assert computed(qualified_caregiver, rules).computed_level == 2
    assert caregiver_facts(caregiver=qualified_caregiver, rule_set=rules).satisfaction_rate == Decimal("90.00")


def test_only_substantiated_complaints_in_the_window_count(qualified_caregiver, passed_exam, rules):
    StarLevelRule.objects.filter(rule_set=rules, level__gte=2).update(max_substantiated_complaints=0)
    incident(qualified_caregiver, substantiated=False)
    incident(qualified_caregiver, occurred_on=timezone.localdate() - datetime.timedelta(days=400))
    assert computed(qualified_caregiver, rules).computed_level == 2

    incident(qualified_caregiver)
    result = computed(qualified_caregiver, rules)
    assert result.computed_level == 1
    assert criterion(result, 2, "substantiated_complaints").actual == "1"


@pytest.mark.parametrize("kind", [ServiceIncident.Kind.LIABILITY_ACCIDENT, ServiceIncident.Kind.ETHICS_BREACH])
def test_a_disqualifier_bars_every_level_that_says_so(qualified_caregiver, passed_exam, rules, kind):
    incident(qualified_caregiver, kind=kind, occurred_on=timezone.localdate() - datetime.timedelta(days=700))
    assert computed(qualified_caregiver, rules).computed_level == 0
    # Older than the disqualifier window (3 years by default): it no longer counts.
    rules.disqualifier_window_years = 1
    rules.save()
    assert computed(qualified_caregiver, rules).computed_level == 2


def test_a_disqualifier_only_bars_the_levels_that_name_it(qualified_caregiver, passed_exam, rules):
    StarLevelRule.objects.filter(rule_set=rules, level=1).update(barred_by_liability_accident=False)
    incident(qualified_caregiver, kind=ServiceIncident.Kind.LIABILITY_ACCIDENT)
    assert computed(qualified_caregiver, rules).computed_level == 1


def test_required_courses_must_be_completed(qualified_caregiver, passed_exam, rules):
    _body, index = training_body_with_index()
    course = course_with_lessons(index, title="失能老人照护", lessons=1)
    level_2 = rules.levels.get(level=2)
    level_2.required_courses.add(course)
    level_2.save()
    level_3 = rules.levels.get(level=3)
    level_3.required_courses.add(course)
    level_3.save()
    result = computed(qualified_caregiver, rules)
    assert result.computed_level == 1
    assert "失能老人照护" in criterion(result, 2, "required_courses").actual

    Enrollment.objects.create(caregiver=qualified_caregiver, course=course, completed_at=timezone.now())
    result = computed(qualified_caregiver, rules)
    assert result.computed_level == 2
    assert criterion(result, 2, "required_courses").passed


def test_training_hours_can_be_limited_to_recent_years(qualified_caregiver, passed_exam, rules):
    # The fixture's 35 hours were earned on 2024-01-01.
    rules.training_hours_window_years = 1
    rules.save()
    assert caregiver_facts(caregiver=qualified_caregiver, rule_set=rules).training_hours == 0
    assert computed(qualified_caregiver, rules).computed_level == 0
    TrainingHoursEntry.objects.create(
        caregiver=qualified_caregiver,
        hours=Decimal("12"),
        source=TrainingHoursEntry.Source.ADJUSTMENT,
        earned_on=timezone.localdate() - datetime.timedelta(days=30),
    )
    assert computed(qualified_caregiver, rules).computed_level == 1


def test_levels_count_only_on_top_of_every_lower_level(qualified_caregiver, passed_exam, rules):
    # Level 1 asks for a satisfaction rate the caregiver lacks; level 2 does not: the result is still 0.
    StarLevelRule.objects.filter(rule_set=rules, level=1).update(min_satisfaction_rate=Decimal("95"))
    assert computed(qualified_caregiver, rules).computed_level == 0


def ladder(*rows):
    levels = [StarLevelRule(level=level, **fields) for level, fields in rows]
    return levels


def test_a_monotonic_ladder_passes():
    levels = ladder(
        (1, {"min_training_hours": 10, "min_theory_score": 60}),
        (2, {"min_training_hours": 30, "min_theory_score": 70, "max_substantiated_complaints": 1}),
        (3, {"min_training_hours": 60, "min_theory_score": 80, "max_substantiated_complaints": 0}),
    )
    assert rule_levels_problems(levels, {2: {7}, 3: {7, 8}}) == []


@pytest.mark.parametrize(
    ("higher", "courses", "expected"),
    [
        ({"min_training_hours": 5}, {}, "学时"),
        ({"min_practical_score": 50}, {}, "实操考核成绩"),
        ({"min_training_hours": 40, "min_satisfaction_rate": 0}, {}, "满意率"),
        ({"min_training_hours": 40, "max_substantiated_complaints": 3}, {}, "投诉"),
        ({"min_training_hours": 40, "min_practitioner_level": 0}, {}, "长期照护师"),
        ({"min_training_hours": 40, "barred_by_ethics_breach": False}, {}, "职业道德"),
        ({"min_training_hours": 40}, {1: {5}}, "必修课程"),
        ({"min_training_hours": 20}, {}, "没有任何一项高于"),
    ],
)
def test_a_higher_level_asking_less_is_refused(higher, courses, expected):
    lower = {
        "min_training_hours": 20,
        "min_practical_score": 60,
        "min_satisfaction_rate": 80,
        "max_substantiated_complaints": 1,
        "min_practitioner_level": 5,
    }
    fields = {**lower, **higher}
    problems = rule_levels_problems(ladder((1, lower), (2, fields)), courses)
    assert len(problems) == 1
    assert expected in problems[0]


def test_levels_must_run_from_one_without_gaps():
    assert rule_levels_problems(ladder((1, {}), (3, {"min_training_hours": 5})), {})
    assert rule_levels_problems(ladder((2, {})), {})


def test_the_version_in_force_is_the_latest_whose_date_has_come():
    today = timezone.localdate()
    old = rule_set(version="2024", effective_from=datetime.date(2024, 1, 1))
    current = rule_set(version="2026", effective_from=today)
    rule_set(version="2027", effective_from=today + datetime.timedelta(days=1))
    assert rule_set_current() == current
    assert rule_set_current(on=datetime.date(2025, 6, 1)) == old
    assert rule_set_current(on=datetime.date(2023, 6, 1)) is None
