"""A caregiver appeals the decision in force from their star page (申诉): within the window, once, their own."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from certification.evaluations import services
from certification.evaluations.models import Appeal
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db

STAR = "/me/star/"


def appeal_url(evaluation) -> str:
    return f"/me/star/evaluations/{evaluation.pk}/appeal/"


def test_a_caregiver_appeals_within_the_window(client, decided_evaluation):
    caregiver = decided_evaluation.caregiver
    client.force_login(caregiver.user)
    before = client.get(STAR).content.decode()
    assert f"可在 <strong>{decided_evaluation.appeal_until.isoformat()}</strong> 前提出申诉（还剩 30 天）" in before
    assert f'action="{appeal_url(decided_evaluation)}"' in before

    response = client.post(appeal_url(decided_evaluation), {"grounds": "实操考核时设备故障，影响了成绩"}, follow=True)
    appeal = Appeal.objects.get()
    assert appeal.evaluation == decided_evaluation
    assert appeal.filed_by == caregiver.user
    assert appeal.grounds == "实操考核时设备故障，影响了成绩"
    assert appeal.status == Appeal.Status.OPEN
    html = response.content.decode()
    assert "申诉已提交，将由您的考评员以外的管理员处理。" in html
    assert f"您已于 {timezone.localdate().isoformat()} 提出申诉。" in html
    assert "待处理" in html
    assert "实操考核时设备故障，影响了成绩" in html
    assert f'action="{appeal_url(decided_evaluation)}"' not in html


def test_empty_grounds_are_refused_and_nothing_is_written(client, decided_evaluation):
    client.force_login(decided_evaluation.caregiver.user)
    response = client.post(appeal_url(decided_evaluation), {"grounds": "   "})
    assert response.status_code == 200
    assert "请填写申诉理由。" in response.content.decode()
    assert not Appeal.objects.exists()


def test_an_appeal_after_the_window_is_refused(client, caregiver, assessor, rules):
    decided_at = timezone.now() - datetime.timedelta(days=rules.appeal_window_days + 1)
    decision = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, decided_at=decided_at)
    client.force_login(caregiver.user)
    html = client.get(STAR).content.decode()
    assert f"本次评定结果的申诉期限已于 {decision.appeal_until.isoformat()} 截止。" in html
    assert f'action="{appeal_url(decision)}"' not in html

    response = client.post(appeal_url(decision), {"grounds": "迟到的申诉"}, follow=True)
    assert f"申诉期限已于 {decision.appeal_until.isoformat()} 截止。" in response.content.decode()
    assert not Appeal.objects.exists()


def test_the_last_day_of_the_window_still_counts(client, caregiver, assessor, rules):
    decided_at = timezone.now() - datetime.timedelta(days=rules.appeal_window_days)
    decision = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, decided_at=decided_at)
    assert decision.appeal_until == timezone.localdate()
    client.force_login(caregiver.user)
    assert "（还剩 0 天）" in client.get(STAR).content.decode()
    client.post(appeal_url(decision), {"grounds": "最后一天提出"})
    assert Appeal.objects.filter(evaluation=decision).exists()


def test_a_decision_is_appealed_once(client, decided_evaluation):
    client.force_login(decided_evaluation.caregiver.user)
    client.post(appeal_url(decided_evaluation), {"grounds": "第一次申诉"})
    response = client.post(appeal_url(decided_evaluation), {"grounds": "第二次申诉"}, follow=True)
    assert "该评定结果已申诉过。" in response.content.decode()
    assert list(Appeal.objects.values_list("grounds", flat=True)) == ["第一次申诉"]


def test_only_the_decision_in_force_can_be_appealed(client, caregiver, assessor, rules):
    older = decided_evaluation_for(
        caregiver=caregiver,
        assessor=assessor,
        rule_set=rules,
        level=1,
        decided_at=timezone.now() - datetime.timedelta(days=5),
    )
    in_force = decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=2)
    client.force_login(caregiver.user)
    html = client.get(STAR).content.decode()
    assert f'action="{appeal_url(in_force)}"' in html
    assert f'action="{appeal_url(older)}"' not in html

    response = client.post(appeal_url(older), {"grounds": "对旧结果申诉"}, follow=True)
    assert "只能对现行有效的评定结果申诉。" in response.content.decode()
    assert not Appeal.objects.exists()


def test_no_one_appeals_someone_elses_decision(client, decided_evaluation):
    other = CaregiverFactory(user__name="李桂兰")
    client.force_login(other.user)
    assert client.post(appeal_url(decided_evaluation), {"grounds": "代人申诉"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.appeal_file(evaluation=decided_evaluation, user=other.user, grounds="代人申诉")
    assert not Appeal.objects.exists()


def test_the_caregiver_sees_the_decision_on_the_appeal(client, decided_evaluation, administrator):
    caregiver = decided_evaluation.caregiver
    client.force_login(caregiver.user)
    client.post(appeal_url(decided_evaluation), {"grounds": "理论成绩录入有误"})
    services.appeal_decide(
        appeal=Appeal.objects.get(), actor=administrator, upheld=False, note="经核对成绩录入无误，维持原评定"
    )
    html = client.get(STAR).content.decode()
    assert "驳回" in html
    assert "经核对成绩录入无误，维持原评定" in html
    assert "2 星级护理员" in html
    assert f'action="{appeal_url(decided_evaluation)}"' not in html


def test_an_upheld_appeal_changes_the_level_in_force(
    client, decided_evaluation, administrator, django_capture_on_commit_callbacks
):
    caregiver = decided_evaluation.caregiver
    client.force_login(caregiver.user)
    client.post(appeal_url(decided_evaluation), {"grounds": "请复查"})
    with django_capture_on_commit_callbacks(execute=False):
        appeal = services.appeal_decide(
            appeal=Appeal.objects.get(), actor=administrator, upheld=True, level=1, note="复查后改为一星"
        )
    html = client.get(STAR).content.decode()
    assert "1 星级护理员" in html
    assert "申诉成立：星级已变更" in html
    assert "复查后改为一星" in html
    # The new decision is in force: it, not the first one, is what may still be appealed.
    assert f'action="{appeal_url(appeal.result)}"' in html
    assert f'action="{appeal_url(decided_evaluation)}"' not in html
