"""Setting up two-step verification on a 360 px phone, in Debian's Chromium, as an assessor does on first sign-in."""

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from accounts import services
from tests.browser import PHONE
from tests.certification.conftest import page  # noqa: F401  (the phone-sized Chromium page)
from tests.factories.accounts import InstitutionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def fits_the_phone(page) -> bool:  # noqa: F811
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_assessor_sets_up_the_app_on_a_phone(live_server, page, tmp_path):  # noqa: F811
    services.assessor_create(username="phone", password="phone-pw", name="周考评", institution=InstitutionFactory())

    page.goto(f"{live_server.url}/accounts/login/?next=/assess/")
    page.fill("#id_username", "phone")
    page.fill("#id_password", "phone-pw")
    page.click("main button")
    expect(page.locator("h1")).to_have_text("设置两步验证")
    expect(page.locator(".qr svg")).to_be_visible()
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "setup.png", full_page=True)

    secret = page.locator(".secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#id_otp_token", "000000" if f"{totp(key):06d}" != "000000" else "111111")
    page.get_by_role("button", name="确认").click()
    expect(page.locator(".errorlist")).to_contain_text("验证码不正确")
    page.wait_for_timeout(1100)  # the wait after a wrong code (django-otp's throttling)
    page.fill("#id_otp_token", f"{totp(key):06d}")
    page.get_by_role("button", name="确认").click()

    expect(page.locator("h1")).to_have_text("您的恢复码")
    expect(page.locator(".codes li")).to_have_count(10)
    assert fits_the_phone(page)
    page.screenshot(path=tmp_path / "codes.png", full_page=True)
    page.get_by_role("link", name="已妥善保存，继续").click()
    expect(page).to_have_url(f"{live_server.url}/assess/")
