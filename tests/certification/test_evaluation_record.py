import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from certification import services
from certification.eligibility import caregiver_facts, star_level_compute
from certification.models import Evaluation
from tests.factories.accounts import AssessorFactory, UserFactory

pytestmark = pytest.mark.django_db


def record(**overrides):
    return services.evaluation_record(**overrides)


def test_engine_explains_each_criterion(qualified_caregiver, passed_exam, rules):
    eligibility = star_level_compute(
        facts=caregiver_facts(caregiver=qualified_caregiver), rule_set=rules, practical_score=85
    )
    assert eligibility.computed_level == 2
    level_3 = eligibility.levels[2]
    failing = {criterion.key for criterion in level_3.criteria if not criterion.passed}
    # 35 hours < 60 and no practitioner level: exactly these two hold the caregiver back.
    assert failing == {"training_hours", "practitioner_level"}


def test_the_practical_score_caps_the_level(qualified_caregiver, passed_exam, rules):
    facts = caregiver_facts(caregiver=qualified_caregiver)
    assert star_level_compute(facts=facts, rule_set=rules, practical_score=65).computed_level == 1
    assert star_level_compute(facts=facts, rule_set=rules, practical_score=50).computed_level == 0


def test_assessor_records_a_decision_with_the_rule_set_version(
    qualified_caregiver, passed_exam, assessor, rules, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = record(
            assessor=assessor, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=2
        )
    assert evaluation.status == Evaluation.Status.DECIDED
    assert evaluation.rule_set == rules
    assert evaluation.computed_level == 2
    assert evaluation.criteria_snapshot["computed_level"] == 2


def test_no_level_above_the_computed_one(qualified_caregiver, passed_exam, assessor, rules):
    with pytest.raises(ValidationError, match="2"):
        record(assessor=assessor, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=3)
    assert Evaluation.objects.count() == 0


def test_a_lower_level_needs_a_written_reason(
    qualified_caregiver, passed_exam, assessor, rules, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError):
        record(assessor=assessor, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=1)
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = record(
            assessor=assessor,
            caregiver=qualified_caregiver,
            rule_set=rules,
            practical_score=85,
            level=1,
            reason="实操中翻身动作不规范",
        )
    assert evaluation.level == 1


def test_no_one_assesses_staff_of_their_own_institution(qualified_caregiver, passed_exam, rules):
    colleague = AssessorFactory(institution=qualified_caregiver.institution).user
    with pytest.raises(PermissionDenied):
        record(assessor=colleague, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=2)


def test_no_one_assesses_themselves(qualified_caregiver, rules):
    qualified_caregiver.user.role = "assessor"
    qualified_caregiver.user.save()
    assert services.assessor_conflict(assessor=qualified_caregiver.user, caregiver=qualified_caregiver)
    with pytest.raises(PermissionDenied):
        record(
            assessor=qualified_caregiver.user,
            caregiver=qualified_caregiver,
            rule_set=rules,
            practical_score=85,
            level=1,
        )


def test_only_assessors_record(qualified_caregiver, passed_exam, rules):
    manager = UserFactory(role="manager")
    with pytest.raises(PermissionDenied):
        record(assessor=manager, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=2)


def test_assessor_form_over_http(
    client, qualified_caregiver, passed_exam, assessor, rules, django_capture_on_commit_callbacks
):
    client.force_login(assessor)
    url = f"/assess/caregivers/{qualified_caregiver.pk}/evaluate/"
    page = client.get(url, {"practical_score": 85})
    assert page.status_code == 200
    assert page.context["eligibility"].computed_level == 2
    assert qualified_caregiver.national_id not in page.content.decode()

    refused = client.post(url, {"practical_score": 85, "level": 3})
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()

    with django_capture_on_commit_callbacks(execute=False):
        accepted = client.post(url, {"practical_score": 85, "level": 2})
    assert accepted.status_code == 302
    assert Evaluation.objects.get().level == 2


def test_assessor_pages_refuse_others(client, qualified_caregiver):
    client.force_login(qualified_caregiver.user)
    assert client.get("/assess/").status_code == 403
    assert client.get(f"/assess/caregivers/{qualified_caregiver.pk}/evaluate/").status_code == 403
