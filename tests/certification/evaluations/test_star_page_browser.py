"""The star page on a 360 px phone, in Debian's Chromium: nothing wider than the screen; apply, then withdraw."""

import pytest
from playwright.sync_api import expect

from certification.certificates import services as certificates
from certification.evaluations.models import Evaluation
from tests.browser import PHONE
from tests.factories.accounts import AssessorFactory, CaregiverFactory
from tests.factories.certification import decided_evaluation_for, rule_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_star_page_on_a_phone(live_server, page):
    caregiver = CaregiverFactory(user__username="phone", user__name="王秀英")
    caregiver.user.set_password("phone-pw")
    caregiver.user.save()
    decision = decided_evaluation_for(caregiver=caregiver, assessor=AssessorFactory().user, rule_set=rule_set())
    certificate = certificates.certificate_issue(evaluation_id=decision.pk)

    page.goto(f"{live_server.url}/accounts/login/?next=/me/star/")
    page.fill("#id_username", "phone")
    page.fill("#id_password", "phone-pw")
    page.click("main button")
    expect(page.locator("#current")).to_contain_text("2 星级护理员")
    expect(page.locator("#certificate")).to_contain_text(certificate.serial_number)
    expect(page.get_by_role("button", name="提交申诉")).to_be_visible()
    assert fits_the_phone(page)

    page.fill("#id_note", "工作日下午可参加实操考核")
    page.get_by_role("button", name="申请复评").click()
    expect(page.locator("#evaluation")).to_contain_text("待分配考评员")
    assert Evaluation.objects.filter(caregiver=caregiver, status=Evaluation.Status.APPLIED).count() == 1
    assert fits_the_phone(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤回申请").click()
    expect(page.locator(".messages")).to_contain_text("您的申请已撤回。")
    assert not Evaluation.objects.filter(caregiver=caregiver, status=Evaluation.Status.APPLIED).exists()

    page.goto(f"{live_server.url}/me/star/history/")
    expect(page.locator("#certificates")).to_contain_text(certificate.serial_number)
    assert fits_the_phone(page)
