"""Appeals in the admin: open ones first; an administrator other than the first assessor upholds or dismisses."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Role
from certification.certificates import services as certificates
from certification.evaluations import services
from certification.models import Appeal, Certificate, Evaluation
from tests.factories.accounts import AssessorFactory, CaregiverFactory
from tests.factories.certification import decided_evaluation_for, evaluation_through_workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def bureau(client, administrator):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)
    return client


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def denied(response) -> bool:
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


@pytest.fixture
def lowered_decision(
    qualified_caregiver, passed_exam, assessor, reviewer, administrator, rules, django_capture_on_commit_callbacks
):
    """The record supports 2 stars; the assessor gave 1 with a reason, and the certificate says 1 star."""
    with django_capture_on_commit_callbacks(execute=False):
        decision = evaluation_through_workflow(
            caregiver=qualified_caregiver,
            assessor=assessor,
            reviewer=reviewer,
            administrator=administrator,
            level=1,
            reason="实操中翻身动作不规范",
        )
    certificates.certificate_issue(evaluation_id=decision.pk)
    return decision


@pytest.fixture
def appeal(lowered_decision):
    return services.appeal_file(
        evaluation=lowered_decision, user=lowered_decision.caregiver.user, grounds="实操评分时考评员未看完整个流程"
    )


def test_the_decide_page_shows_the_grounds_and_the_decision_appealed(bureau, appeal, lowered_decision):
    page = page_text(bureau.get(f"/admin/appeal/decide/{appeal.pk}/"))
    assert "实操评分时考评员未看完整个流程" in page
    assert "实操中翻身动作不规范" in page  # the reason for the lower level
    for criterion in lowered_decision.criteria_snapshot["levels"][0]["criteria"]:
        assert f"<td>{criterion['label']}</td><td>{criterion['required']}</td>" in page


def test_upholding_makes_a_new_decision_and_queues_its_certificate(
    bureau, appeal, lowered_decision, administrator, django_capture_on_commit_callbacks
):
    old_certificate = lowered_decision.certificates.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = bureau.post(
            f"/admin/appeal/decide/{appeal.pk}/",
            {"outcome": "upheld", "level": "2", "note": "复看录像，操作规范，维持系统测算的星级"},
        )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by) == (Appeal.Status.UPHELD, administrator)
    result = appeal.result
    assert (result.source, result.revises, result.level, result.status) == (
        Evaluation.Source.APPEAL,
        lowered_decision,
        2,
        Evaluation.Status.DECIDED,
    )
    assert result.reviewer == administrator
    # The decision appealed stays as it was made; the new one carries the certificate, queued on commit.
    assert Evaluation.objects.get(pk=lowered_decision.pk).level == 1
    assert len(callbacks) >= 2
    new_certificate = result.certificates.get()
    assert (new_certificate.star_level, new_certificate.predecessor) == (2, old_certificate)
    old_certificate.refresh_from_db()
    assert old_certificate.status == Certificate.Status.SUPERSEDED


def test_dismissing_keeps_the_decision(bureau, appeal, lowered_decision, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = bureau.post(f"/admin/appeal/decide/{appeal.pk}/", {"outcome": "dismissed", "note": "评分有据"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.result, appeal.decision_note) == (Appeal.Status.DISMISSED, None, "评分有据")
    assert not callbacks
    assert Evaluation.objects.filter(caregiver=lowered_decision.caregiver).count() == 1
    # Decided: no longer offered.
    assert f"/admin/appeal/decide/{appeal.pk}/" not in page_text(bureau.get(f"/admin/appeal/inspect/{appeal.pk}/"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "upheld", "note": "成立"}, "申诉成立须变更星级：请填写新的星级。"),
        ({"outcome": "upheld", "level": "3", "note": "成立"}, "评定星级不得高于测算星级（2星）。"),
        ({"outcome": "dismissed", "note": " "}, "必需字段"),
    ],
    ids=["no-level", "above-the-record", "no-reasons"],
)
def test_a_decision_the_rules_do_not_allow_is_refused(bureau, appeal, data, message):
    response = bureau.post(f"/admin/appeal/decide/{appeal.pk}/", data)
    assert response.status_code == 200
    assert message in page_text(response)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


@pytest.fixture
def appeal_of_an_administrators_own_assessment(
    client, qualified_caregiver, passed_exam, reviewer, administrator, rules, django_capture_on_commit_callbacks
):
    first_assessor = AssessorFactory(user__name="兼任考评员", user__is_superuser=True).user
    with django_capture_on_commit_callbacks(execute=False):
        decision = evaluation_through_workflow(
            caregiver=qualified_caregiver,
            assessor=first_assessor,
            reviewer=reviewer,
            administrator=administrator,
            level=1,
            reason="理论成绩不稳定",
        )
    client.force_login(first_assessor)
    return services.appeal_file(evaluation=decision, user=qualified_caregiver.user, grounds="要求换人复核")


def test_the_first_assessor_is_refused_and_not_even_offered(client, appeal_of_an_administrators_own_assessment):
    appeal = appeal_of_an_administrators_own_assessment
    decide_url = f"/admin/appeal/decide/{appeal.pk}/"
    assert decide_url not in page_text(client.get("/admin/appeal/"))
    inspect = page_text(client.get(f"/admin/appeal/inspect/{appeal.pk}/"))
    assert decide_url not in inspect
    assert "原考评员不得处理针对本人评定的申诉。" in inspect

    response = client.post(decide_url, {"outcome": "upheld", "level": "2", "note": "成立"}, follow=True)
    assert "原考评员不得处理针对本人评定的申诉。" in page_text(response)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.result) == (Appeal.Status.OPEN, None)


def test_someone_who_is_not_an_administrator_is_refused(client, appeal, assessor):
    manager = account_services.user_create(
        username="manager",
        password="pw",
        name="机构管理员",
        role=Role.MANAGER,
        institution=AssessorFactory().institution,
    )
    client.force_login(manager)
    assert denied(client.get(f"/admin/appeal/decide/{appeal.pk}/"))
    assert denied(client.post(f"/admin/appeal/decide/{appeal.pk}/", {"outcome": "dismissed", "note": "驳回"}))
    client.force_login(assessor)
    response = client.post(f"/admin/appeal/decide/{appeal.pk}/", {"outcome": "dismissed", "note": "驳回"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_open_appeals_come_first(bureau, administrator, appeal, assessor, rules):
    other = decided_evaluation_for(caregiver=CaregiverFactory(user__name="李桂兰"), assessor=assessor, rule_set=rules)
    later = services.appeal_file(evaluation=other, user=other.caregiver.user, grounds="不服")
    services.appeal_decide(appeal=later, actor=administrator, upheld=False, note="驳回")
    page = bureau.get("/admin/appeal/").content.decode()
    assert page.index(f"/admin/appeal/inspect/{appeal.pk}/") < page.index(f"/admin/appeal/inspect/{later.pk}/")
    assert f"/admin/appeal/decide/{appeal.pk}/" in page and f"/admin/appeal/decide/{later.pk}/" not in page


def test_the_appeal_list_costs_the_same_number_of_queries_however_many_appeals(bureau, administrator, assessor, rules):
    def file_appeals(count: int) -> None:
        for number in range(count):
            decision = decided_evaluation_for(caregiver=CaregiverFactory(), assessor=assessor, rule_set=rules)
            appeal = services.appeal_file(evaluation=decision, user=decision.caregiver.user, grounds="不服")
            if number % 2:
                services.appeal_decide(appeal=appeal, actor=administrator, upheld=False, note="驳回")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bureau.get("/admin/appeal/").status_code == 200
        return len(captured)

    file_appeals(2)
    few = queries()
    file_appeals(6)
    assert queries() == few
