"""Appeals: within the window, once, decided by an administrator who was not the first assessor."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role
from certification.certificates import services as certificates
from certification.evaluations import selectors, services
from certification.models import Appeal, Certificate, Evaluation
from tests.factories.accounts import UserFactory
from tests.factories.certification import evaluation_through_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def lower_decision(
    qualified_caregiver, passed_exam, assessor, reviewer, administrator, rules, django_capture_on_commit_callbacks
):
    """One star awarded where two were computed, with the assessor's reason."""
    with django_capture_on_commit_callbacks(execute=False):
        return evaluation_through_workflow(
            caregiver=qualified_caregiver,
            assessor=assessor,
            reviewer=reviewer,
            administrator=administrator,
            level=1,
            reason="沟通能力不足",
        )


@pytest.fixture
def appeal(lower_decision, qualified_caregiver):
    return services.appeal_file(evaluation=lower_decision, user=qualified_caregiver.user, grounds="实操全部达标")


def test_the_caregiver_appeals_once_within_the_window(appeal, lower_decision, qualified_caregiver):
    assert appeal.status == Appeal.Status.OPEN
    with pytest.raises(ValidationError, match="已申诉"):
        services.appeal_file(evaluation=lower_decision, user=qualified_caregiver.user, grounds="再次申诉")


def test_only_the_caregiver_appeals_with_grounds(lower_decision, qualified_caregiver):
    with pytest.raises(PermissionDenied):
        services.appeal_file(evaluation=lower_decision, user=UserFactory(), grounds="代为申诉")
    with pytest.raises(ValidationError):
        services.appeal_file(evaluation=lower_decision, user=qualified_caregiver.user, grounds="  ")
    assert not Appeal.objects.exists()


def test_no_appeal_after_the_window(qualified_caregiver, assessor, rules):
    from tests.factories.certification import decided_evaluation_for

    earlier = decided_evaluation_for(caregiver=qualified_caregiver, assessor=assessor, rule_set=rules)
    closed = Evaluation.objects.create(
        caregiver=qualified_caregiver,
        assessor=assessor,
        rule_set=rules,
        practical_score=85,
        computed_level=2,
        level=2,
        status=Evaluation.Status.DECIDED,
        decided_at=timezone.now(),
        appeal_until=timezone.localdate() - datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError, match="截止"):
        services.appeal_file(evaluation=closed, user=qualified_caregiver.user, grounds="逾期申诉")
    # An earlier decision, no longer in force, cannot be appealed either.
    with pytest.raises(ValidationError, match="现行"):
        services.appeal_file(evaluation=earlier, user=qualified_caregiver.user, grounds="旧的评定")


def test_an_upheld_appeal_makes_a_new_decision(
    appeal, lower_decision, administrator, django_capture_on_commit_callbacks
):
    first_certificate = certificates.certificate_issue(evaluation_id=lower_decision.pk)
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.appeal_decide(appeal=appeal, actor=administrator, upheld=True, level=2, note="理由成立")
    assert decided.status == Appeal.Status.UPHELD
    result = decided.result
    assert (result.source, result.revises, result.level, result.status) == (
        Evaluation.Source.APPEAL,
        lower_decision,
        2,
        Evaluation.Status.DECIDED,
    )
    assert result.reviewer == administrator
    # The original decision is untouched; its certificate is superseded by the new one.
    lower_decision.refresh_from_db()
    assert lower_decision.level == 1
    first_certificate.refresh_from_db()
    assert first_certificate.status == Certificate.Status.SUPERSEDED
    assert first_certificate.successor.star_level == 2


def test_an_appeal_cannot_award_more_than_the_computed_level(appeal, administrator):
    with pytest.raises(ValidationError, match="2"):
        services.appeal_decide(appeal=appeal, actor=administrator, upheld=True, level=3, note="理由成立")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_a_dismissed_appeal_leaves_the_level(appeal, lower_decision, administrator):
    decided = services.appeal_decide(appeal=appeal, actor=administrator, upheld=False, note="评定有据")
    assert decided.status == Appeal.Status.DISMISSED and decided.result is None
    assert selectors.decision_current(caregiver=lower_decision.caregiver) == lower_decision
    with pytest.raises(ValidationError):
        services.appeal_decide(appeal=appeal, actor=administrator, upheld=False, note="再次处理")


def test_the_first_assessor_never_decides_the_appeal(appeal, lower_decision, assessor):
    with pytest.raises(PermissionDenied):
        services.appeal_decide(appeal=appeal, actor=assessor, upheld=True, level=2, note="理由成立")
    # Not even when they also hold an administrator's account.
    assessor.role = Role.ADMINISTRATOR
    assessor.save()
    with pytest.raises(PermissionDenied, match="原考评员"):
        services.appeal_decide(appeal=appeal, actor=assessor, upheld=True, level=2, note="理由成立")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN
