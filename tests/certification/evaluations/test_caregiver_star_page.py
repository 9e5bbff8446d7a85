"""The caregiver's star page (我的星级): level in force, certificate, eligibility, apply, withdraw, history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from certification.certificates import services as certificates
from certification.evaluations import services
from certification.models import Certificate, Evaluation
from tests.factories.accounts import CaregiverFactory, UserFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db

STAR = "/me/star/"
HISTORY = "/me/star/history/"


def page(client, url=STAR) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- What the page shows -------------------------------------------------------------------------------


def test_the_page_shows_the_level_in_force_its_certificate_and_the_eligibility(client, certificate):
    evaluation = certificate.evaluation
    client.force_login(evaluation.caregiver.user)
    html = page(client)
    assert "2 星级护理员" in html
    assert timezone.localtime(evaluation.decided_at).strftime("%Y-%m-%d") in html
    assert "测试规则 1" in html
    assert evaluation.re_evaluation_due_on.isoformat() in html
    assert certificate.serial_number in html
    assert f"/me/certificates/{certificate.pk}/pdf/" in html
    assert f"/verify/{certificate.verification_code}/" in html
    # The criteria of the rule set in force, one row per criterion, with the practical score explained.
    assert html.count('<td class="pass">') + html.count('<td class="fail">') == 3 * 7
    assert "您还没有实操考核记录，此处实操成绩按 0 分计。" in html
    assert "正式评定时，实操成绩以考评员记录的为准。" in html
    # The decision in force can be appealed and a re-evaluation applied for.
    assert "提交申诉" in html
    assert "申请复评" in html


def test_the_eligibility_uses_the_latest_practical_score(
    client, qualified_caregiver, passed_exam, rules, assessor, administrator
):
    from certification.practicals import services as practical_services
    from tests.factories.certification import practical_template

    template = practical_template()
    assessment = practical_services.practical_assign(
        template=template, caregiver=qualified_caregiver, assessor=assessor, assigned_by=administrator
    )
    points = {step.pk: step.points for step in template.steps.all()}
    assessment = practical_services.practical_score(assessment=assessment, assessor=assessor, points=points)
    client.force_login(qualified_caregiver.user)
    html = page(client)
    assert f"实操考核成绩（{assessment.eligible_score} 分）为考评员在您最近一次实操考核中评定的成绩。" in html
    # 35 hours, full theory and practical marks and six years of service meet level 2 of the test rules, not 3.
    assert "按现行规则，您的记录目前达到 2 星级的全部条件。" in html


def test_a_caregiver_without_a_decision_is_invited_to_apply(client, caregiver, rules):
    client.force_login(caregiver.user)
    html = page(client)
    assert "您还没有星级。" in html
    assert "申请星级评定" in html
    assert "提交申请后，管理员将为您分配考评员" in html
    assert "提交申诉" not in html
    assert "按现行规则，您的记录目前尚未达到 1 星级的全部条件。" in html


def test_without_a_rule_set_the_page_says_so(client, caregiver):
    client.force_login(caregiver.user)
    html = page(client)
    assert "当前没有生效的星级评定规则。" in html
    assert 'class="criteria"' not in html


def test_a_level_zero_decision_shows_no_level_and_no_certificate(client, caregiver, assessor, rules):
    decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=0)
    client.force_login(caregiver.user)
    html = page(client)
    assert "未评定星级" in html
    assert "您目前没有有效证书。" in html
    assert "证书正在签发中" not in html


def test_a_certificate_not_yet_issued_is_announced(client, decided_evaluation):
    client.force_login(decided_evaluation.caregiver.user)
    assert "证书正在签发中，稍后将显示在这里。" in page(client)


# --- Who may see it ------------------------------------------------------------------------------------


def test_the_page_is_for_caregivers_only(client, assessor, administrator):
    for url in (STAR, HISTORY):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    for user in (assessor, administrator, UserFactory(role=Role.MANAGER)):
        client.force_login(user)
        assert client.get(STAR).status_code == 403
        assert client.get(HISTORY).status_code == 403
        assert client.post("/me/star/apply/").status_code == 403
    assert not Evaluation.objects.exists()


def test_a_caregiver_sees_only_their_own(client, certificate):
    other = CaregiverFactory(user__name="李桂兰")
    client.force_login(other.user)
    for url in (STAR, HISTORY):
        html = page(client, url)
        assert "李桂兰" in html
        assert "王秀英" not in html
        assert certificate.serial_number not in html
    assert "您还没有星级评定记录。" in page(client, HISTORY)


def test_a_caregiver_may_not_withdraw_someone_elses_application(client, caregiver):
    evaluation = services.evaluation_apply(caregiver=caregiver)
    client.force_login(CaregiverFactory().user)
    assert client.post(f"/me/star/evaluations/{evaluation.pk}/withdraw/").status_code == 404
    evaluation.refresh_from_db()
    assert evaluation.status == Evaluation.Status.APPLIED


# --- Applying and withdrawing --------------------------------------------------------------------------


def test_a_caregiver_applies_with_a_note(client, caregiver, rules):
    client.force_login(caregiver.user)
    response = client.post("/me/star/apply/", {"note": "周三下午可以参加实操考核"}, follow=True)
    evaluation = Evaluation.objects.get(caregiver=caregiver)
    assert evaluation.source == Evaluation.Source.APPLICATION
    assert evaluation.status == Evaluation.Status.APPLIED
    assert evaluation.requested_by == caregiver.user
    assert evaluation.request_note == "周三下午可以参加实操考核"
    html = response.content.decode()
    assert "申请已提交，管理员将为您分配考评员。" in html
    assert "待分配考评员" in html
    assert "周三下午可以参加实操考核" in html
    assert f"/me/star/evaluations/{evaluation.pk}/withdraw/" in html
    assert 'action="/me/star/apply/"' not in html


def test_a_second_application_is_refused_in_chinese(client, caregiver, rules):
    client.force_login(caregiver.user)
    client.post("/me/star/apply/", {"note": ""})
    response = client.post("/me/star/apply/", {"note": "再申请一次"}, follow=True)
    assert Evaluation.objects.filter(caregiver=caregiver).count() == 1
    assert "您已有一项进行中的星级评定（待分配考评员），请等待评定结果，或先撤回申请，再重新申请。" in (
        response.content.decode()
    )


def test_an_overlong_note_is_refused_and_nothing_is_written(client, caregiver, rules):
    client.force_login(caregiver.user)
    response = client.post("/me/star/apply/", {"note": "长" * 1001})
    assert response.status_code == 200
    assert "长" * 1001 in response.content.decode()
    assert "1000" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_a_caregiver_withdraws_their_application_and_may_apply_again(client, caregiver, rules):
    client.force_login(caregiver.user)
    client.post("/me/star/apply/")
    evaluation = Evaluation.objects.get(caregiver=caregiver)
    response = client.post(f"/me/star/evaluations/{evaluation.pk}/withdraw/", follow=True)
    evaluation.refresh_from_db()
    assert evaluation.status == Evaluation.Status.WITHDRAWN
    html = response.content.decode()
    assert "您的申请已撤回。" in html
    assert 'action="/me/star/apply/"' in html
    client.post("/me/star/apply/")
    assert Evaluation.objects.filter(caregiver=caregiver, status=Evaluation.Status.APPLIED).count() == 1


def test_a_nomination_cannot_be_withdrawn_by_the_caregiver(client, caregiver, rules):
    manager = UserFactory(role=Role.MANAGER, institution=caregiver.institution)
    evaluation = services.evaluation_nominate(manager=manager, caregiver=caregiver)
    client.force_login(caregiver.user)
    html = page(client)
    assert "机构推荐" in html
    assert "撤回申请" not in html
    response = client.post(f"/me/star/evaluations/{evaluation.pk}/withdraw/", follow=True)
    assert "只有申请人或管理员可以撤回星级评定。" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Evaluation.Status.APPLIED


def test_the_open_evaluation_is_told_in_plain_words_without_the_reviewers_note(
    client, qualified_caregiver, passed_exam, rules, assessor, reviewer, administrator
):
    client.force_login(qualified_caregiver.user)
    evaluation = services.evaluation_apply(caregiver=qualified_caregiver)
    services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)
    html = page(client)
    assert "考评中" in html
    assert "您的考评员是周考评" in html

    services.evaluation_propose(evaluation=evaluation, assessor=assessor, practical_score=85, level=2)
    assert "待复核" in page(client)

    services.evaluation_return(evaluation=evaluation, reviewer=reviewer, note="内部：实操记录缺少签字页")
    html = page(client)
    assert "已退回考评员" in html
    assert "内部：实操记录缺少签字页" not in html
    assert "内部：实操记录缺少签字页" not in page(client, HISTORY)


# --- History -------------------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    client.get(url)  # warm the per-process caches so only the page's own cost counts
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_history_shows_what_the_caregiver_may_see(
    client,
    qualified_caregiver,
    passed_exam,
    rules,
    assessor,
    reviewer,
    administrator,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        first = services.evaluation_apply(caregiver=qualified_caregiver, note="第一次申请")
        services.evaluation_assign(evaluation=first, assessor=assessor, actor=administrator)
        services.evaluation_propose(
            evaluation=first,
            assessor=assessor,
            practical_score=85,
            level=1,
            reason="压疮预防操作不够规范",
            observations="翻身动作熟练",
        )
        services.evaluation_confirm(evaluation=first, reviewer=reviewer, note="内部复核意见：同意")
    old_certificate = certificates.certificate_issue(evaluation_id=first.pk)
    appeal = services.appeal_file(evaluation=first, user=qualified_caregiver.user, grounds="操作符合规范")
    with django_capture_on_commit_callbacks(execute=False):
        appeal = services.appeal_decide(appeal=appeal, actor=administrator, upheld=True, level=2, note="复查录像后改定")
    new_certificate = certificates.certificate_issue(evaluation_id=appeal.result_id)
    old_certificate.refresh_from_db()
    assert old_certificate.status == Certificate.Status.SUPERSEDED

    client.force_login(qualified_caregiver.user)
    html = page(client, HISTORY)
    assert "压疮预防操作不够规范" in html
    assert "翻身动作熟练" in html
    assert "第一次申请" in html
    assert "内部复核意见：同意" not in html
    assert "操作符合规范" in html
    assert "申诉成立：星级已变更" in html
    assert "复查录像后改定" in html
    assert f"/verify/{old_certificate.verification_code}/" in html
    assert f"/verify/{new_certificate.verification_code}/" in html
    assert "已被取代" in html
    assert html.count("现行有效") == 1
    # The page of the level in force tells of the appeal that made it.
    html = page(client)
    assert "2 星级护理员" in html
    assert "申诉成立：星级已变更" in html
    assert "提交申诉" in html  # the new decision may itself be appealed, once


def test_the_history_costs_the_same_however_long_it_is(client, certificate, assessor, rules, django_assert_num_queries):
    caregiver = certificate.caregiver
    client.force_login(caregiver.user)
    few_history, few_page = queries_for(client, HISTORY), queries_for(client, STAR)

    for number in range(3):
        decision = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=1)
        certificates.certificate_issue(evaluation_id=decision.pk)
        services.appeal_file(evaluation=decision, user=caregiver.user, grounds=f"第{number + 1}次申诉")
    services.evaluation_apply(caregiver=caregiver)
    assert Certificate.objects.filter(caregiver=caregiver).count() == 4
    assert queries_for(client, HISTORY) == few_history
    assert queries_for(client, STAR) == few_page
    # Session, user, caregiver profile; evaluations, their appeals, certificates; the site's demo notice.
    with django_assert_num_queries(7):
        html = page(client, HISTORY)
    # Five evaluations, three appeals, four certificates.
    assert html.count('class="history-item"') == 5 + 3 + 4
