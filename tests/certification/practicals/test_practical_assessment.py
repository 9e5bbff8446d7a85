"""Practical skill assessments: assignment under the conflict-of-interest rule, scoring, and the star evaluation."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.conflicts import assessor_conflict
from accounts.models import Role
from certification.models import PracticalAssessment
from certification.practicals import selectors, services
from certification.rules.eligibility import caregiver_facts, star_level_compute
from tests.factories.accounts import AssessorFactory, CaregiverFactory
from tests.factories.certification import practical_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    return account_services.user_create(username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR)


@pytest.fixture
def template(db):
    return practical_template(steps=((20, False), (30, True), (50, False)), pass_mark=60)


def assign(template, caregiver, assessor, administrator):
    return services.practical_assign(
        template=template, caregiver=caregiver, assessor=assessor, assigned_by=administrator
    )


def full_marks(template, **overrides) -> dict[int, int]:
    points = {step.pk: step.points for step in template.steps.all()}
    for index, value in overrides.items():
        points[list(points)[int(index)]] = value
    return points


def test_no_one_assesses_themselves_or_their_own_staff(template, administrator, caregiver):
    colleague = AssessorFactory(institution=caregiver.institution).user
    with pytest.raises(ValidationError, match="own institution|本机构"):
        assign(template, caregiver, colleague, administrator)
    caregiver.user.role = Role.ASSESSOR
    caregiver.user.save()
    self_assessor = AssessorFactory(user=caregiver.user).user
    with pytest.raises(ValidationError, match="themselves|本人"):
        assign(template, caregiver, self_assessor, administrator)
    assert not PracticalAssessment.objects.exists()


def test_only_assessors_are_assigned_and_only_administrators_assign(template, administrator, caregiver, assessor):
    with pytest.raises(ValidationError):
        assign(template, caregiver, CaregiverFactory().user, administrator)
    with pytest.raises(PermissionDenied):
        assign(template, caregiver, assessor, assessor)
    assessment = assign(template, caregiver, assessor, administrator)
    assert assessment.status == PracticalAssessment.Status.ASSIGNED
    with pytest.raises(ValidationError, match="already|已有"):
        assign(template, caregiver, assessor, administrator)


def test_scoring_totals_the_steps(template, administrator, caregiver, assessor):
    assessment = assign(template, caregiver, assessor, administrator)
    scored = services.practical_score(
        assessment=assessment, assessor=assessor, points=full_marks(template, **{"0": 10, "2": 35})
    )
    assert (scored.score, scored.passed, scored.critical_failed) == (Decimal("75.0"), True, False)
    assert list(scored.step_scores.values_list("points_awarded", flat=True)) == [10, 30, 35]


def test_a_failed_critical_step_fails_the_item(template, administrator, caregiver, assessor):
    assessment = assign(template, caregiver, assessor, administrator)
    scored = services.practical_score(
        assessment=assessment, assessor=assessor, points=full_marks(template, **{"1": 29})
    )
    assert scored.score == Decimal("99.0")
    assert scored.passed is False and scored.critical_failed is True
    assert scored.eligible_score == 0


def test_scoring_is_for_the_assigned_assessor_once(template, administrator, caregiver, assessor):
    assessment = assign(template, caregiver, assessor, administrator)
    other = AssessorFactory().user
    with pytest.raises(PermissionDenied):
        services.practical_score(assessment=assessment, assessor=other, points=full_marks(template))
    with pytest.raises(ValidationError, match="Step 2|第 2 步"):
        services.practical_score(assessment=assessment, assessor=assessor, points=full_marks(template, **{"1": 31}))
    services.practical_score(assessment=assessment, assessor=assessor, points=full_marks(template))
    with pytest.raises(ValidationError, match="already|已经"):
        services.practical_score(assessment=assessment, assessor=assessor, points=full_marks(template, **{"0": 0}))
    assert PracticalAssessment.objects.get().score == 100


def test_the_latest_result_feeds_the_star_evaluation(template, administrator, qualified_caregiver, assessor, rules):
    facts = caregiver_facts(caregiver=qualified_caregiver)
    assert facts.practical_score is None
    first = assign(template, qualified_caregiver, assessor, administrator)
    services.practical_score(assessment=first, assessor=assessor, points=full_marks(template, **{"2": 10}))
    second_template = practical_template(steps=((10, False),))
    second = assign(second_template, qualified_caregiver, assessor, administrator)
    services.practical_score(assessment=second, assessor=assessor, points={second_template.steps.get().pk: 9})
    facts = caregiver_facts(caregiver=qualified_caregiver)
    assert facts.practical_score == Decimal("90.0")
    eligibility = star_level_compute(facts=facts, rule_set=rules)
    practical = next(c for c in eligibility.levels[0].criteria if c.key == "practical_score")
    assert practical.actual == "90.0" and practical.passed
    # The assessor's own figure still wins when given (the existing call shape).
    typed = star_level_compute(facts=facts, rule_set=rules, practical_score=50)
    assert next(c for c in typed.levels[0].criteria if c.key == "practical_score").passed is False


def test_the_evaluation_form_is_filled_in_from_the_latest_practical(
    client, template, administrator, qualified_caregiver, assessor, rules
):
    from certification.evaluations import services as evaluation_services

    evaluation = evaluation_services.evaluation_apply(caregiver=qualified_caregiver)
    evaluation_services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)
    client.force_login(assessor)
    url = f"/assess/evaluations/{evaluation.pk}/"
    assert 'name="practical_score"' in client.get(url).content.decode()
    assessment = assign(template, qualified_caregiver, assessor, administrator)
    services.practical_score(assessment=assessment, assessor=assessor, points=full_marks(template, **{"2": 37}))
    page = client.get(url)
    assert page.context["form"].initial["practical_score"] == 87
    assert page.context["practical"] == assessment
    assert "协助翻身实操" in page.content.decode()
    # Typed into the check box, another figure is used instead.
    assert client.get(url, {"practical_score": 40}).context["practical_score"] == 40


def test_the_assessor_scores_on_the_phone_form(client, template, administrator, caregiver, assessor):
    assessment = assign(template, caregiver, assessor, administrator)
    client.force_login(assessor)
    listing = client.get("/assess/practicals/").content.decode()
    assert f"/assess/practicals/{assessment.pk}/" in listing and caregiver.name in listing
    form_url = f"/assess/practicals/{assessment.pk}/"
    steps = list(template.steps.order_by("sort_order"))
    incomplete = client.post(form_url, {f"step_{steps[0].pk}": 20})
    assert incomplete.status_code == 200 and "每个步骤" in incomplete.content.decode()
    assert PracticalAssessment.objects.get().status == PracticalAssessment.Status.ASSIGNED
    data = {f"step_{step.pk}": step.points for step in steps} | {"notes": "操作规范"}
    assert client.post(form_url, data).status_code == 302
    result = client.get(form_url).content.decode()
    assert "100.0" in result and "操作规范" in result


def test_an_assessor_reaches_only_their_own_assignments(client, template, administrator, caregiver, assessor):
    assessment = assign(template, caregiver, assessor, administrator)
    other = AssessorFactory().user
    client.force_login(other)
    assert client.get(f"/assess/practicals/{assessment.pk}/").status_code == 404
    client.force_login(caregiver.user)
    assert client.get("/assess/practicals/").status_code == 403


def test_the_assessor_list_costs_a_fixed_number_of_queries(client, template, administrator, assessor):
    client.force_login(assessor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get("/assess/practicals/")
        return len(captured)

    assign(template, CaregiverFactory(), assessor, administrator)
    before = queries()
    for _ in range(4):
        done = assign(practical_template(), CaregiverFactory(), assessor, administrator)
        services.practical_score(assessment=done, assessor=assessor, points=full_marks(done.template))
        assign(template, CaregiverFactory(), assessor, administrator)
    assert queries() == before
    assert selectors.assessments_for_assessor(assessor=assessor).count() == 5


def test_assignment_in_the_admin_checks_the_conflict(client, template, administrator, caregiver, assessor):
    client.force_login(administrator)
    colleague = AssessorFactory(institution=caregiver.institution).user
    form = {"template": template.pk, "caregiver": caregiver.pk, "assessor": colleague.pk, "scheduled_on": ""}
    response = client.post("/admin/practical_assessments/new/", form)
    assert response.status_code == 200 and "本机构" in response.content.decode()
    assert not PracticalAssessment.objects.exists()
    response = client.post("/admin/practical_assessments/new/", form | {"assessor": assessor.pk})
    assert response.status_code == 302
    assert PracticalAssessment.objects.get().assigned_by == administrator


def test_the_demo_data_has_checklists_and_a_candidate_waiting_for_assessor1():
    import io

    from django.core.management import call_command

    call_command("seed_demo", caregivers=3, stdout=io.StringIO())
    call_command("seed_demo", caregivers=3, stdout=io.StringIO())
    waiting = PracticalAssessment.objects.get()
    assert (waiting.assessor.username, waiting.caregiver.user.username) == ("assessor1", "caregiver01")
    assert waiting.template.steps.filter(is_critical=True).exists()
    assert assessor_conflict(assessor=waiting.assessor, caregiver=waiting.caregiver) is None
