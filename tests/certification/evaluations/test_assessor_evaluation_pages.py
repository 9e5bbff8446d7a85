"""The assessor's pages: the queues cost a fixed number of queries; a bad proposal or review changes nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.evaluations import services
from certification.models import Evaluation
from tests.factories.accounts import AssessorFactory, CaregiverFactory

pytestmark = pytest.mark.django_db


def assigned_to(assessor, administrator, caregiver=None):
    evaluation = services.evaluation_apply(caregiver=caregiver or CaregiverFactory())
    return services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)


def proposal_by(other, administrator, caregiver):
    evaluation = assigned_to(other, administrator, caregiver)
    return services.evaluation_propose(evaluation=evaluation, assessor=other, practical_score=0, level=0)


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/assess/")
    assert response.status_code == 200
    return len(queries)


def test_the_assessor_home_costs_the_same_with_one_or_many_evaluations(client, assessor, administrator, rules):
    other = AssessorFactory().user
    assigned_to(assessor, administrator)
    proposal_by(other, administrator, CaregiverFactory())
    client.force_login(assessor)
    few = home_queries(client)
    for _ in range(5):
        assigned_to(assessor, administrator)
        proposal_by(other, administrator, CaregiverFactory())
    page = client.get("/assess/").content.decode()
    assert page.count("/assess/evaluations/") == 12
    assert home_queries(client) == few


def test_a_proposal_above_the_computed_level_is_refused_and_changes_nothing(
    client, qualified_caregiver, passed_exam, assessor, administrator, rules
):
    evaluation = assigned_to(assessor, administrator, qualified_caregiver)
    client.force_login(assessor)
    response = client.post(f"/assess/evaluations/{evaluation.pk}/", {"practical_score": 85, "level": 3})
    assert response.status_code == 200
    assert "不得高于测算星级" in str(response.context["form"].non_field_errors())
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.level, evaluation.practical_score) == (Evaluation.Status.ASSIGNED, None, None)

    response = client.post(f"/assess/evaluations/{evaluation.pk}/", {"practical_score": 140, "level": 2})
    assert response.context["form"].errors["practical_score"]
    evaluation.refresh_from_db()
    assert evaluation.status == Evaluation.Status.ASSIGNED


def test_a_return_without_a_note_is_refused_and_changes_nothing(
    client, qualified_caregiver, reviewer, administrator, rules
):
    proposal = proposal_by(AssessorFactory().user, administrator, qualified_caregiver)
    client.force_login(reviewer)
    response = client.post(f"/assess/evaluations/{proposal.pk}/review/", {"action": "return", "note": ""})
    assert response.status_code == 200
    assert "退回" in str(response.context["form"].non_field_errors())
    proposal.refresh_from_db()
    assert proposal.status == Evaluation.Status.PROPOSED and proposal.review_note == ""


def test_the_proposer_cannot_open_their_own_review(client, qualified_caregiver, administrator, rules):
    other = AssessorFactory().user
    proposal = proposal_by(other, administrator, qualified_caregiver)
    client.force_login(other)
    assert client.get(f"/assess/evaluations/{proposal.pk}/review/").status_code == 403
    assert client.get(f"/assess/evaluations/{proposal.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("²", "输入整数"),
        ("9" * 5000, "输入整数"),
        ("1e5000", "输入整数"),
        ("150", "小于或等于100"),
        ("-1", "大于或等于0"),
    ],
    ids=["superscript two", "5000 digits", "1e5000", "above 100", "negative"],
)
def test_a_score_typed_to_check_eligibility_that_is_not_one_is_refused_with_a_reason(
    client, qualified_caregiver, passed_exam, assessor, administrator, rules, typed, message
):
    evaluation = assigned_to(assessor, administrator, qualified_caregiver)
    client.force_login(assessor)
    response = client.get(f"/assess/evaluations/{evaluation.pk}/", {"practical_score": typed})
    assert response.status_code == 200
    assert message in " ".join(response.context["check_form"].errors["practical_score"])
    assert message in response.content.decode()
    # The check falls back to the score on record (none here), and nothing was proposed.
    assert response.context["practical_score"] == 0
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.practical_score) == (Evaluation.Status.ASSIGNED, None)


def test_a_score_typed_to_check_eligibility_is_used_for_the_check(
    client, qualified_caregiver, passed_exam, assessor, administrator, rules
):
    evaluation = assigned_to(assessor, administrator, qualified_caregiver)
    client.force_login(assessor)
    response = client.get(f"/assess/evaluations/{evaluation.pk}/", {"practical_score": " 85 "})
    assert response.status_code == 200 and not response.context["check_form"].errors
    assert response.context["practical_score"] == 85
    assert response.context["form"]["practical_score"].value() == 85
