"""Application to decision: each transition, each guard, and the audit trail with before and after."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import Role
from certification.dates import months_before
from certification.evaluations import services
from certification.models import Certificate, Evaluation, ServiceIncident
from tests.factories.accounts import AssessorFactory, UserFactory
from tests.factories.servicedata import incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(qualified_caregiver, passed_exam, assessor, administrator, rules):
    evaluation = services.evaluation_apply(caregiver=qualified_caregiver, note="申请评定二星")
    return services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)


@pytest.fixture
def proposed(assigned, assessor):
    return services.evaluation_propose(evaluation=assigned, assessor=assessor, practical_score=85, level=2)


def actions(evaluation) -> list[str]:
    return list(
        ModelLogEntry.objects.for_instance(evaluation).order_by("timestamp", "pk").values_list("action", flat=True)
    )


def test_the_whole_path_is_audited_with_before_and_after(proposed, reviewer, rules, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decided = services.evaluation_confirm(evaluation=proposed, reviewer=reviewer, note="同意")
    assert decided.status == Evaluation.Status.DECIDED
    assert decided.rule_set == rules
    assert decided.level == decided.computed_level == 2
    assert decided.criteria_snapshot["computed_level"] == 2
    today = timezone.localdate()
    assert decided.appeal_until == today + datetime.timedelta(days=rules.appeal_window_days)
    assert decided.re_evaluation_due_on == months_before(today, -rules.re_evaluation_months)
    # The certificate and the caregiver's notice wait for the commit.
    assert len(callbacks) == 2
    assert actions(decided) == [
        "carestar.evaluation.open",
        "carestar.evaluation.assign",
        "carestar.evaluation.propose",
        "carestar.evaluation.decide",
    ]
    decide = ModelLogEntry.objects.for_instance(decided).get(action="carestar.evaluation.decide")
    assert decide.user_id == reviewer.pk
    assert decide.data["before"]["status"] == "proposed"
    assert decide.data["after"] == {**decide.data["before"], "status": "decided", "reviewer": reviewer.pk}


def test_the_decision_issues_the_certificate_and_tells_the_caregiver(
    proposed, reviewer, qualified_caregiver, django_capture_on_commit_callbacks
):
    qualified_caregiver.user.email = "wang@example.cn"
    qualified_caregiver.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        decided = services.evaluation_confirm(evaluation=proposed, reviewer=reviewer)
    assert Certificate.objects.get(evaluation=decided).star_level == 2
    assert any("2 星" in message.body for message in mail.outbox if "评定结果" in message.subject)
    # A second notice is not sent, whatever the queue redelivers.
    assert services.evaluation_notify(evaluation_id=decided.pk) is False


def test_one_open_evaluation_per_caregiver(assigned, qualified_caregiver):
    with pytest.raises(ValidationError, match="进行中"):
        services.evaluation_apply(caregiver=qualified_caregiver)
    assert Evaluation.objects.filter(caregiver=qualified_caregiver).count() == 1


def test_managers_nominate_their_own_staff_only(qualified_caregiver):
    own = UserFactory(role=Role.MANAGER, institution=qualified_caregiver.institution)
    other = UserFactory(role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.evaluation_nominate(manager=other, caregiver=qualified_caregiver)
    evaluation = services.evaluation_nominate(manager=own, caregiver=qualified_caregiver, note="服务表现突出")
    assert evaluation.source == Evaluation.Source.NOMINATION
    assert evaluation.requested_by == own


def test_assignment_guards(qualified_caregiver, assessor, administrator):
    evaluation = services.evaluation_apply(caregiver=qualified_caregiver)
    with pytest.raises(PermissionDenied):
        services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=assessor)
    colleague = AssessorFactory(institution=qualified_caregiver.institution).user
    with pytest.raises(ValidationError, match="本机构"):
        services.evaluation_assign(evaluation=evaluation, assessor=colleague, actor=administrator)
    with pytest.raises(ValidationError):
        services.evaluation_assign(evaluation=evaluation, assessor=UserFactory(role=Role.MANAGER), actor=administrator)
    evaluation.refresh_from_db()
    assert evaluation.status == Evaluation.Status.APPLIED and evaluation.assessor is None


def test_only_the_assigned_assessor_proposes(assigned):
    other = AssessorFactory().user
    with pytest.raises(PermissionDenied):
        services.evaluation_propose(evaluation=assigned, assessor=other, practical_score=85, level=2)


def test_no_level_above_the_computed_one(assigned, assessor):
    with pytest.raises(ValidationError, match="2"):
        services.evaluation_propose(evaluation=assigned, assessor=assessor, practical_score=85, level=3)
    # The practical score counts: at 65 points the caregiver reaches one star only.
    with pytest.raises(ValidationError):
        services.evaluation_propose(evaluation=assigned, assessor=assessor, practical_score=65, level=2)
    assigned.refresh_from_db()
    assert assigned.status == Evaluation.Status.ASSIGNED and assigned.level is None


def test_a_lower_level_needs_a_written_reason(assigned, assessor):
    with pytest.raises(ValidationError, match="理由"):
        services.evaluation_propose(evaluation=assigned, assessor=assessor, practical_score=85, level=1)
    evaluation = services.evaluation_propose(
        evaluation=assigned, assessor=assessor, practical_score=85, level=1, reason="协助翻身动作不规范"
    )
    assert (evaluation.level, evaluation.computed_level, evaluation.reason) == (1, 2, "协助翻身动作不规范")


def test_the_reviewer_may_return_the_proposal(proposed, assessor, reviewer):
    with pytest.raises(ValidationError):
        services.evaluation_return(evaluation=proposed, reviewer=reviewer, note=" ")
    returned = services.evaluation_return(evaluation=proposed, reviewer=reviewer, note="请补充实操观察记录")
    assert returned.status == Evaluation.Status.RETURNED
    again = services.evaluation_propose(
        evaluation=returned, assessor=assessor, practical_score=85, level=2, observations="操作规范，沟通良好"
    )
    assert again.status == Evaluation.Status.PROPOSED
    assert actions(again)[-2:] == ["carestar.evaluation.return", "carestar.evaluation.propose"]


def test_no_self_review(proposed, assessor):
    with pytest.raises(PermissionDenied):
        services.evaluation_confirm(evaluation=proposed, reviewer=assessor)
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.filter(pk=proposed.pk).update(reviewer=assessor)


def test_no_review_of_own_institutions_staff(proposed, qualified_caregiver):
    colleague = AssessorFactory(institution=qualified_caregiver.institution).user
    with pytest.raises(PermissionDenied, match="本机构"):
        services.evaluation_confirm(evaluation=proposed, reviewer=colleague)
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.evaluation_confirm(evaluation=proposed, reviewer=manager)
    proposed.refresh_from_db()
    assert proposed.status == Evaluation.Status.PROPOSED


def test_no_confirmation_above_what_the_record_supports_today(proposed, reviewer, qualified_caregiver):
    incident(qualified_caregiver, kind=ServiceIncident.Kind.ETHICS_BREACH)
    with pytest.raises(ValidationError, match="退回"):
        services.evaluation_confirm(evaluation=proposed, reviewer=reviewer)


def test_the_applicant_may_withdraw_an_open_application(assigned, qualified_caregiver):
    with pytest.raises(PermissionDenied):
        services.evaluation_withdraw(evaluation=assigned, actor=UserFactory())
    withdrawn = services.evaluation_withdraw(evaluation=assigned, actor=qualified_caregiver.user)
    assert withdrawn.status == Evaluation.Status.WITHDRAWN
    # Withdrawn, it no longer blocks a new application.
    assert services.evaluation_apply(caregiver=qualified_caregiver).status == Evaluation.Status.APPLIED


def test_no_step_out_of_order(
    assigned, proposed, reviewer, assessor, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        decided = services.evaluation_confirm(evaluation=proposed, reviewer=reviewer)
    for step in (
        lambda: services.evaluation_propose(evaluation=decided, assessor=assessor, practical_score=85, level=2),
        lambda: services.evaluation_return(evaluation=decided, reviewer=reviewer, note="再看看"),
        lambda: services.evaluation_assign(evaluation=decided, assessor=assessor, actor=administrator),
        lambda: services.evaluation_withdraw(evaluation=decided, actor=administrator),
    ):
        with pytest.raises(ValidationError, match="已评定"):
            step()


def test_a_decided_evaluation_cannot_be_changed_in_place(decided_evaluation):
    with pytest.raises(IntegrityError), transaction.atomic():
        Evaluation.objects.filter(pk=decided_evaluation.pk).update(level=3)
    decided_evaluation.reason = "改动"
    with pytest.raises(IntegrityError), transaction.atomic():
        decided_evaluation.save()
    decided_evaluation.refresh_from_db()
    assert decided_evaluation.level == 2 and decided_evaluation.reason == ""


def test_decision_records_the_version_in_force_at_proposal(assigned, assessor, rules):
    from tests.factories.certification import rule_set

    newer = rule_set(version="2", effective_from=timezone.localdate())
    evaluation = services.evaluation_propose(evaluation=assigned, assessor=assessor, practical_score=85, level=2)
    assert evaluation.rule_set == newer != rules
