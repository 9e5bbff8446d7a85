"""Star evaluations in the admin: a filtered list at a fixed cost, the inspect page, assigning and withdrawing."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from accounts.models import Role
from certification.evaluations import services
from certification.models import Evaluation
from tests.factories.accounts import AssessorFactory, CaregiverFactory, UserFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def bureau(client, administrator):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)
    return client


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def listed(response) -> set[int]:
    """The evaluations a listing page links to."""
    page = response.content.decode()
    return {
        evaluation.pk
        for evaluation in Evaluation.objects.all()
        if f'href="/admin/evaluation/inspect/{evaluation.pk}/"' in page
    }


def denied(response) -> bool:
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


def test_the_list_costs_the_same_number_of_queries_however_many_evaluations(bureau, rules, assessor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bureau.get("/admin/evaluation/").status_code == 200
        return len(captured)

    for _ in range(3):
        decided_evaluation_for(caregiver=CaregiverFactory(), assessor=assessor, rule_set=rules)
        services.evaluation_apply(caregiver=CaregiverFactory())
    few = queries()
    for _ in range(6):
        decided_evaluation_for(caregiver=CaregiverFactory(), assessor=AssessorFactory().user, rule_set=rules)
        services.evaluation_apply(caregiver=CaregiverFactory())
    assert queries() == few


def test_the_list_filters_by_status_source_round_and_county_and_finds_a_caregiver_by_name(
    bureau, administrator, rules, assessor
):
    decided = decided_evaluation_for(caregiver=CaregiverFactory(user__name="张桂芳"), assessor=assessor, rule_set=rules)
    applied = services.evaluation_apply(caregiver=CaregiverFactory(user__name="刘玉兰"))
    staff = CaregiverFactory(user__name="陈淑华")
    manager = account_services.user_create(
        username="manager", password="pw", name="机构管理员", role=Role.MANAGER, institution=staff.institution
    )
    nominated = services.evaluation_nominate(manager=manager, caregiver=staff)
    in_round = CaregiverFactory(user__name="赵秀兰")
    evaluation_round = services.round_open(
        actor=administrator,
        name="2026 年复评",
        closes_on=timezone.localdate() + datetime.timedelta(days=30),
        institution=in_round.institution,
    )
    from_round = in_round.evaluations.get()

    page = page_text(bureau.get("/admin/evaluation/"))
    assert all(name in page for name in ["张桂芳", "刘玉兰", "陈淑华", "赵秀兰"])
    assert listed(bureau.get("/admin/evaluation/", {"status": "decided"})) == {decided.pk}
    assert listed(bureau.get("/admin/evaluation/", {"status": "applied"})) == {applied.pk, nominated.pk, from_round.pk}
    assert listed(bureau.get("/admin/evaluation/", {"source": "nomination"})) == {nominated.pk}
    assert listed(bureau.get("/admin/evaluation/", {"round": evaluation_round.pk})) == {from_round.pk}
    assert listed(bureau.get("/admin/evaluation/", {"county": staff.institution.county_id})) == {nominated.pk}
    assert listed(bureau.get("/admin/evaluation/", {"q": "玉兰"})) == {applied.pk}


def test_the_list_shows_the_columns_an_administrator_works_from(bureau, decided_evaluation):
    page = page_text(bureau.get("/admin/evaluation/"))
    for text in ["王秀英", decided_evaluation.caregiver.institution.name, "已评定", "周考评", "2 ★"]:
        assert text in page


@pytest.fixture
def application(caregiver):
    return services.evaluation_apply(caregiver=caregiver)


def test_only_assessors_without_a_conflict_are_offered_and_a_conflict_is_refused(bureau, application, caregiver):
    colleague = AssessorFactory(user__name="同院考评", institution=caregiver.institution).user
    account_only = UserFactory(role=Role.ASSESSOR, name="账号同院", institution=caregiver.institution)
    outsider = AssessorFactory(user__name="外院考评").user
    independent = AssessorFactory(user__name="独立考评", institution=None).user

    page = page_text(bureau.get(f"/admin/evaluation/assign/{application.pk}/"))
    assert "外院考评" in page and "独立考评" in page
    assert "同院考评" not in page and "账号同院" not in page

    for conflicted in (colleague, account_only):
        response = bureau.post(f"/admin/evaluation/assign/{application.pk}/", {"assessor": conflicted.pk})
        assert response.status_code == 200
        assert "该考评员不能考评这名护理员" in page_text(response)
    application.refresh_from_db()
    assert (application.status, application.assessor) == (Evaluation.Status.APPLIED, None)

    response = bureau.post(f"/admin/evaluation/assign/{application.pk}/", {"assessor": outsider.pk})
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.assessor) == (Evaluation.Status.ASSIGNED, outsider)

    # Reassigning: another assessor takes it over, and the audit log keeps both steps.
    assert bureau.post(f"/admin/evaluation/assign/{application.pk}/", {"assessor": independent.pk}).status_code == 302
    application.refresh_from_db()
    assert application.assessor == independent
    assert ModelLogEntry.objects.filter(object_id=str(application.pk), action="carestar.evaluation.assign").count() == 2


def test_only_administrators_assign_and_withdraw(client, application):
    manager = account_services.user_create(
        username="manager",
        password="pw",
        name="机构管理员",
        role=Role.MANAGER,
        institution=application.caregiver.institution,
    )
    client.force_login(manager)
    outsider = AssessorFactory().user
    assert denied(client.post(f"/admin/evaluation/assign/{application.pk}/", {"assessor": outsider.pk}))
    assert denied(client.post(f"/admin/evaluation/withdraw/{application.pk}/", {"reason": "重复申请"}))
    application.refresh_from_db()
    assert (application.status, application.assessor) == (Evaluation.Status.APPLIED, None)


def test_withdrawing_needs_a_reason_and_is_audited(bureau, application):
    response = bureau.post(f"/admin/evaluation/withdraw/{application.pk}/", {"reason": "  "})
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == Evaluation.Status.APPLIED

    assert bureau.post(f"/admin/evaluation/withdraw/{application.pk}/", {"reason": "护理员已离职"}).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.review_note) == (Evaluation.Status.WITHDRAWN, "护理员已离职")
    entry = ModelLogEntry.objects.get(object_id=str(application.pk), action="carestar.evaluation.withdraw")
    assert (entry.data["before"]["status"], entry.data["after"]["status"]) == ("applied", "withdrawn")

    # Closed now: neither offered nor possible again.
    inspect = page_text(bureau.get(f"/admin/evaluation/inspect/{application.pk}/"))
    assert f"/admin/evaluation/withdraw/{application.pk}/" not in inspect
    response = bureau.post(f"/admin/evaluation/withdraw/{application.pk}/", {"reason": "再次撤回"}, follow=True)
    assert "该评定当前状态为“已撤回”，不能进行此操作。" in page_text(response)


def test_a_decision_is_neither_reassigned_nor_withdrawn(bureau, decided_evaluation):
    inspect = page_text(bureau.get(f"/admin/evaluation/inspect/{decided_evaluation.pk}/"))
    assert f"/admin/evaluation/assign/{decided_evaluation.pk}/" not in inspect
    assert f"/admin/evaluation/edit/{decided_evaluation.pk}/" not in inspect
    assert f"/admin/evaluation/delete/{decided_evaluation.pk}/" not in inspect
    bureau.post(f"/admin/evaluation/withdraw/{decided_evaluation.pk}/", {"reason": "撤回"})
    assert denied(bureau.post(f"/admin/evaluation/delete/{decided_evaluation.pk}/"))
    assert Evaluation.objects.get(pk=decided_evaluation.pk).status == Evaluation.Status.DECIDED


def test_the_inspect_page_shows_the_criteria_as_evaluated_and_the_audit_trail(bureau, decided_evaluation):
    evaluation = decided_evaluation
    page = page_text(bureau.get(f"/admin/evaluation/inspect/{evaluation.pk}/"))
    # The snapshot, as the assessor and reviewer saw it.
    for level in evaluation.criteria_snapshot["levels"]:
        for criterion in level["criteria"]:
            assert f"<td>{criterion['label']}</td><td>{criterion['required']}</td>" in page
    assert "吴复核" in page  # the reviewer
    # Every step, with what it changed.
    assert "待复核 → 已评定" in page
    assert "考评员: — → 周考评" in page
    assert f"/admin/evaluation/caregiver/{evaluation.caregiver_id}/" in page

    history = page_text(bureau.get(f"/admin/evaluation/history/{evaluation.pk}/"))
    assert "待复核 → 已评定" in history and "星级: — → 2" in history


def test_the_inspect_page_shows_the_revision_chain_appeal_and_certificates(
    bureau, decided_evaluation, certificate, administrator, django_capture_on_commit_callbacks
):
    appeal = services.appeal_file(evaluation=decided_evaluation, user=decided_evaluation.caregiver.user, grounds="不服")
    with django_capture_on_commit_callbacks(execute=False):
        services.appeal_decide(appeal=appeal, actor=administrator, upheld=True, level=1, note="复核后调整")
    appeal.refresh_from_db()
    page = page_text(bureau.get(f"/admin/evaluation/inspect/{decided_evaluation.pk}/"))
    assert f"/admin/evaluation/inspect/{appeal.result_id}/" in page
    assert f"/admin/appeal/inspect/{appeal.pk}/" in page and "不服" in page
    assert f"/admin/certificates/inspect/{certificate.pk}/" in page and certificate.serial_number in page
    result = page_text(bureau.get(f"/admin/evaluation/inspect/{appeal.result_id}/"))
    assert f"/admin/evaluation/inspect/{decided_evaluation.pk}/" in result
