"""The set-based star-level engine agrees with the per-caregiver engine, caregiver by caregiver, in fixed queries."""

import datetime
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CaregiverProfile
from certification.models import (
    ExamAttempt,
    PracticalAssessment,
    ServiceDataImport,
    ServiceIncident,
    ServiceMonth,
    StarLevelRule,
    StarRuleSet,
)
from certification.rules.eligibility import caregiver_facts, star_level_compute, windows_for
from certification.rules.population import star_level_distribution, star_levels_population
from tests.factories.accounts import AssessorFactory, CaregiverFactory, CountyFactory, InstitutionFactory
from tests.factories.certification import exam_with_questions, practical_template, rule_set
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import Enrollment, TrainingHoursEntry

pytestmark = pytest.mark.django_db

# The first of a month (a service month on the window's edge) and a leap day (anniversaries on 28 February).
TODAYS = [datetime.date(2026, 4, 1), datetime.date(2028, 2, 29)]
SATISFACTION = [(1, 32), (3, 32), (2, 3), (29, 32), (31, 32), (1, 1), (0, 5), (17, 20), (9, 10), (0, 0)]


def require_courses(rules: StarRuleSet, level: int, courses) -> None:
    rule = rules.levels.get(level=level)
    rule.required_courses.set(courses)
    # A parental many-to-many is written when its rule is saved.
    rule.save()


def windowed_rules(required_course) -> StarRuleSet:
    """Hours over 2 years, service over 6 months, disqualifiers over 2 years, a required course on level 3."""
    rules = rule_set(
        name="窗口规则",
        rules=[(1, "10", 60, 60, 0, 0), (2, "30", 70, 70, 1, 5), (3, "60.5", 80, 80, 3, 4)],
    )
    StarRuleSet.objects.filter(pk=rules.pk).update(
        training_hours_window_years=2, service_window_months=6, disqualifier_window_years=2
    )
    StarLevelRule.objects.filter(rule_set=rules, level=1).update(barred_by_liability_accident=False)
    StarLevelRule.objects.filter(rule_set=rules, level=2).update(
        min_satisfaction_rate=Decimal("66.67"), max_substantiated_complaints=2
    )
    StarLevelRule.objects.filter(rule_set=rules, level=3).update(
        min_satisfaction_rate=Decimal("90.63"), max_substantiated_complaints=0
    )
    require_courses(rules, 3, [required_course])
    return StarRuleSet.objects.get(pk=rules.pk)


def plain_rules() -> StarRuleSet:
    """Every hour counted, default periods, no satisfaction or complaints limit, no course, no bars on level 1."""
    rules = rule_set(name="基本规则", rules=[(1, "1", 0, 0, 0, 0), (2, "10", 60, 60, 1, 0), (3, "25", 75, 70, 4, 5)])
    StarLevelRule.objects.filter(rule_set=rules, level=1).update(
        barred_by_liability_accident=False, barred_by_ethics_breach=False
    )
    return StarRuleSet.objects.get(pk=rules.pk)


def rounding_rules(courses) -> StarRuleSet:
    """Satisfaction rates on the half-to-even edge (1/32 = 3.125 → 3.12; 3/32 = 9.375 → 9.38), five levels, two
    courses on level 4 and one more on level 5."""
    rules = rule_set(
        name="舍入规则",
        rules=[(level, "1" if level == 5 else "0", 0, 0, 0, 0) for level in range(1, 6)],
    )
    for level, rate in [(1, "3.12"), (2, "3.13"), (3, "9.38"), (4, "66.67"), (5, "96.88")]:
        StarLevelRule.objects.filter(rule_set=rules, level=level).update(
            min_satisfaction_rate=Decimal(rate), barred_by_liability_accident=False, barred_by_ethics_breach=False
        )
    require_courses(rules, 4, courses[:2])
    require_courses(rules, 5, courses)
    return StarRuleSet.objects.get(pk=rules.pk)


def boundary_days(rule_sets) -> list[datetime.date]:
    """Each window's first counted day, the day before it, and the day after, for every rule set and day."""
    days = []
    for rules in rule_sets:
        for today in TODAYS:
            windows = windows_for(rule_set=rules, today=today)
            for edge in (windows.training_hours_since, windows.service_after, windows.disqualifiers_after):
                if edge is not None:
                    days += [edge - datetime.timedelta(days=1), edge, edge + datetime.timedelta(days=1)]
    return days


def employment_days() -> list[datetime.date]:
    """Anniversaries of both days, a day either side, a leap day, and a start in the future."""
    days = [datetime.date(2020, 2, 29), datetime.date(2024, 2, 29), datetime.date(2027, 1, 1)]
    for today in TODAYS:
        for years in (0, 1, 3, 4, 5):
            anniversary = today.replace(year=today.year - years, day=28 if today.day == 29 else today.day)
            days += [anniversary - datetime.timedelta(days=1), anniversary, anniversary + datetime.timedelta(days=1)]
    return days


class Population:
    """A varied population written with the models' own managers, from a seeded random generator."""

    def __init__(self, *, size: int, seed: int, courses, boundaries: list[datetime.date]):
        self.random = random.Random(seed)
        self.courses = courses
        self.boundaries = boundaries
        self.exam = exam_with_questions(questions=1)
        self.template = practical_template()
        self.assessor = AssessorFactory().user
        self.batch = ServiceDataImport.objects.create(source="spreadsheet", batch_key="population", payload_sha256="0")
        counties = [CountyFactory(), CountyFactory()]
        self.institutions = [InstitutionFactory(county=counties[n % 2]) for n in range(3)]
        self.incident_number = 0
        employment = employment_days()
        self.caregivers = [
            CaregiverFactory(
                institution=self.random.choice(self.institutions),
                employed_since=employment[n % len(employment)],
                practitioner_level=self.random.choice([0, 5, 4, 3]),
            )
            for n in range(size)
        ]
        for number, caregiver in enumerate(self.caregivers):
            self.record(caregiver, number)
            if number % 3 == 0:
                self.record_strong(caregiver)

    def day(self) -> datetime.date:
        if self.random.random() < 0.4:
            return self.random.choice(self.boundaries)
        return datetime.date(2021, 1, 1) + datetime.timedelta(days=self.random.randrange(7 * 365))

    def moment(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.day(), datetime.time(10)))

    def record_strong(self, caregiver: CaregiverProfile) -> None:
        """A record that meets the higher levels on either day, unless the random part spoils it."""
        pick = self.random
        for today in TODAYS:
            recent = today - datetime.timedelta(days=40)
            TrainingHoursEntry.objects.create(
                caregiver=caregiver, hours=Decimal("35.0"), source="adjustment", earned_on=recent
            )
            moment = timezone.make_aware(datetime.datetime.combine(recent, datetime.time(9)))
            ExamAttempt.objects.create(
                exam=self.exam,
                caregiver=caregiver,
                started_at=moment,
                deadline=moment,
                submitted_at=moment,
                score=Decimal("92.5"),
                passed=True,
            )
            PracticalAssessment.objects.create(
                template=self.template,
                caregiver=caregiver,
                assessor=self.assessor,
                status=PracticalAssessment.Status.SCORED,
                score=Decimal(pick.choice(["85.0", "95.0"])),
                scored_at=moment,
            )
            satisfied, surveys = pick.choice([(31, 32), (1, 1), (29, 32), (9, 10)])
            ServiceMonth.objects.update_or_create(
                caregiver=caregiver,
                month=recent.replace(day=1),
                defaults={"surveys": surveys * 3, "satisfied": satisfied * 3, "imported_in": self.batch},
            )
        for course in self.courses:
            Enrollment.objects.update_or_create(
                caregiver=caregiver, course=course, defaults={"completed_at": timezone.now()}
            )
        caregiver.practitioner_level = pick.choice([4, 3])
        caregiver.employed_since = pick.choice([datetime.date(2019, 4, 1), datetime.date(2022, 4, 2)])
        caregiver.save()

    def record(self, caregiver: CaregiverProfile, number: int) -> None:
        pick = self.random
        if number % 7 == 1:
            # Only ten tenths, which reach exactly one hour (a float sum could fall just short).
            TrainingHoursEntry.objects.bulk_create(
                TrainingHoursEntry(
                    caregiver=caregiver, hours=Decimal("0.1"), source="adjustment", earned_on=datetime.date(2025, 9, 1)
                )
                for _ in range(10)
            )
        else:
            TrainingHoursEntry.objects.bulk_create(
                TrainingHoursEntry(
                    caregiver=caregiver,
                    hours=Decimal(pick.choice(["0.1", "0.7", "2.5", "12.5", "-2.0"])),
                    source=TrainingHoursEntry.Source.ADJUSTMENT,
                    earned_on=self.day(),
                )
                for _ in range(pick.randrange(0, 12))
            )
        for _ in range(pick.randrange(0, 4)):
            score = Decimal(pick.choice(["45.0", "59.9", "60.0", "74.5", "75.0", "80.0", "92.5"]))
            started = self.moment()
            ExamAttempt.objects.create(
                exam=self.exam,
                caregiver=caregiver,
                started_at=started,
                deadline=started,
                submitted_at=started,
                score=score,
                passed=score >= 60 and pick.random() < 0.85,
            )
        for _ in range(pick.randrange(0, 3)):
            PracticalAssessment.objects.create(
                template=self.template,
                caregiver=caregiver,
                assessor=self.assessor,
                status=PracticalAssessment.Status.SCORED,
                score=Decimal(pick.choice(["55.0", "69.9", "70.0", "80.0", "95.0"])),
                critical_failed=pick.random() < 0.25,
                scored_at=self.moment(),
            )
        if pick.random() < 0.2:
            # An assessment still waiting for its assessor counts for nothing.
            PracticalAssessment.objects.create(
                template=self.template, caregiver=caregiver, assessor=self.assessor, score=None
            )
        months = sorted({self.day().replace(day=1) for _ in range(pick.randrange(0, 9))})
        for month in months:
            satisfied, surveys = pick.choice(SATISFACTION)
            scale = pick.choice([1, 2, 3])
            ServiceMonth.objects.create(
                caregiver=caregiver,
                month=month,
                surveys=surveys * scale,
                satisfied=satisfied * scale,
                imported_in=self.batch,
            )
        for _ in range(pick.randrange(0, 4)):
            self.incident_number += 1
            ServiceIncident.objects.create(
                caregiver=caregiver,
                reference=f"INC-{self.incident_number}",
                kind=pick.choice(ServiceIncident.Kind.values),
                occurred_on=self.day(),
                substantiated=pick.random() < 0.6,
                imported_in=self.batch,
            )
        for course in self.courses:
            if pick.random() < 0.6:
                Enrollment.objects.create(
                    caregiver=caregiver, course=course, completed_at=self.moment() if pick.random() < 0.7 else None
                )


@pytest.fixture
def courses(db):
    _, index = training_body_with_index()
    return [course_with_lessons(index, lessons=0, slug=f"required-{n}") for n in range(3)]


@pytest.fixture
def rule_sets(courses):
    return [windowed_rules(courses[0]), plain_rules(), rounding_rules(courses)]


@pytest.fixture
def population(courses, rule_sets):
    return Population(size=60, seed=20260315, courses=courses, boundaries=boundary_days(rule_sets))


def test_every_caregiver_gets_the_level_and_facts_of_the_per_caregiver_engine(population, rule_sets):
    assert [
        sorted(
            StarLevelRule.required_courses.through.objects.filter(starlevelrule__rule_set=rules).values_list(
                "starlevelrule__level", flat=True
            )
        )
        for rules in rule_sets
    ] == [[3], [], [4, 4, 5, 5, 5]]
    levels_seen = set()
    for rules in rule_sets:
        for today in TODAYS:
            rows = {row.pk: row for row in star_levels_population(rule_set=rules, today=today)}
            assert len(rows) == len(population.caregivers)
            required = {course.pk for rule in rules.levels.all() for course in rule.required_courses.all()}
            mismatches = []
            for caregiver in population.caregivers:
                facts = caregiver_facts(caregiver=caregiver, rule_set=rules, today=today)
                expected = star_level_compute(facts=facts, rule_set=rules).computed_level
                row = rows[caregiver.pk]
                computed = (
                    row.computed_level,
                    row.training_hours,
                    row.theory_score,
                    row.practical_score,
                    row.years_of_service,
                    row.surveys,
                    row.satisfaction_rate,
                    row.substantiated_complaints,
                    row.liability_accidents,
                    row.ethics_breaches,
                    row.required_courses_completed,
                )
                wanted = (
                    expected,
                    facts.training_hours,
                    facts.theory_score,
                    facts.practical_score,
                    facts.years_of_service,
                    facts.surveys,
                    facts.satisfaction_rate,
                    facts.substantiated_complaints,
                    facts.liability_accidents,
                    facts.ethics_breaches,
                    len(required & facts.completed_course_ids),
                )
                if computed != wanted:
                    mismatches.append((caregiver.pk, computed, wanted))
                levels_seen.add((rules.name, expected))
            assert not mismatches, f"{rules.name} on {today}: {mismatches}"
    # The population is varied enough to exercise every level of every rule set, 0 included.
    for rules in rule_sets:
        assert {level for name, level in levels_seen if name == rules.name} == {
            0,
            *rules.levels.values_list("level", flat=True),
        }


def test_the_population_costs_fixed_queries(population, rule_sets, django_assert_num_queries):
    for rules in rule_sets:
        fresh = StarRuleSet.objects.get(pk=rules.pk)
        # The rule set's levels, their required courses, and the population.
        with django_assert_num_queries(3):
            assert len(list(star_levels_population(rule_set=fresh, today=TODAYS[0]))) == len(population.caregivers)
        prefetched = StarRuleSet.objects.prefetch_related("levels__required_courses").get(pk=rules.pk)
        with django_assert_num_queries(1):
            levels = list(star_levels_population(rule_set=prefetched, today=TODAYS[0]).values_list("computed_level"))
        assert len(levels) == len(population.caregivers)


def test_a_part_of_the_population_is_computed_alone(population, rule_sets):
    rules, today = rule_sets[0], TODAYS[0]
    institution = population.institutions[0]
    staff = CaregiverProfile.objects.filter(institution=institution)
    part = star_levels_population(rule_set=rules, today=today, caregivers=staff)
    levels = dict(part.values_list("pk", "computed_level"))
    assert set(levels) == set(staff.values_list("pk", flat=True)) and levels
    everyone = dict(star_levels_population(rule_set=rules, today=today).values_list("pk", "computed_level"))
    assert levels == {pk: everyone[pk] for pk in levels}


def test_the_distribution_counts_each_level_overall_and_by_county(population, rule_sets, django_assert_num_queries):
    for rules in rule_sets:
        expected: dict[int, int] = {0: 0, **{level: 0 for level in rules.levels.values_list("level", flat=True)}}
        by_county: dict[int, dict[int, int]] = {}
        for caregiver in population.caregivers:
            level = star_level_compute(
                facts=caregiver_facts(caregiver=caregiver, rule_set=rules, today=TODAYS[0]), rule_set=rules
            ).computed_level
            expected[level] += 1
            county = by_county.setdefault(caregiver.institution.county_id, dict.fromkeys(expected, 0))
            county[level] += 1
        prefetched = StarRuleSet.objects.prefetch_related("levels__required_courses").get(pk=rules.pk)
        with django_assert_num_queries(1):
            assert star_level_distribution(rule_set=prefetched, today=TODAYS[0]) == expected
        with django_assert_num_queries(1):
            assert star_level_distribution(rule_set=prefetched, today=TODAYS[0], by_county=True) == by_county
