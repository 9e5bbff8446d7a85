import pytest
from django.db import connections

from tests.browser import CHROMIUM, PHONE


@pytest.fixture
def page(monkeypatch):
    """A phone-sized page in Debian's Chromium, driven by Playwright (tests marked `browser`)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM calls are still
    # synchronous and safe, so Django's guard against calls from async code is lifted here only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()
        # Inside Playwright's loop the test's queries ran on a connection of their own: close it here, or the
        # test database cannot be dropped at the end of the run.
        connections.close_all()
