"""The own-data page on a phone, in Debian's Chromium: it fits the screen and its download button gives the file."""

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE
from tests.certification.conftest import page  # noqa: F401  (the phone-sized Chromium page)
from tests.factories.accounts import PASSWORD, CaregiverFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_caregiver_downloads_their_data_on_a_phone(live_server, page, tmp_path):  # noqa: F811
    caregiver = CaregiverFactory(user__username="phone-caregiver", user__name="王秀英")

    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/my-data/")
    page.fill("#id_username", caregiver.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button")
    expect(page.locator("h1")).to_have_text("我的个人信息")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path="/tmp/my_data.png", full_page=True)

    with page.expect_download() as download:
        page.locator("main form button").click()
    assert download.value.suggested_filename.startswith("我的个人信息-")
