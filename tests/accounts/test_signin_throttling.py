"""After five wrong passwords an account is locked out from that address, on both sign-in pages, in words."""

import pytest
from django.test import override_settings

from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def user(db):
    user = UserFactory(username="wang")
    user.set_password("correct-horse-battery")
    user.save()
    return user


@pytest.mark.parametrize("page", PAGES)
def test_five_wrong_passwords_lock_the_account_out_from_that_address(client, user, page, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        response = client.post(page, {"username": "wang", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = client.post(page, {"username": "wang", "password": "wrong"})
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "登录已暂停" in html and "15 分钟" in html
    # Even the right password waits now.
    assert client.post(page, {"username": "wang", "password": "correct-horse-battery"}).status_code == 429

    # Another account, or the same one from another address, is not held up.
    other = UserFactory(username="li")
    other.set_password("another-long-secret")
    other.save()
    assert client.post(page, {"username": "li", "password": "another-long-secret"}).status_code == 302
    elsewhere = client.post(page, {"username": "wang", "password": "correct-horse-battery"}, REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302


def test_a_successful_sign_in_resets_the_count(client, user):
    for _ in range(4):
        client.post(PAGES[0], {"username": "wang", "password": "wrong"})
    assert client.post(PAGES[0], {"username": "wang", "password": "correct-horse-battery"}).status_code == 302
    client.logout()
    for _ in range(4):
        assert client.post(PAGES[0], {"username": "wang", "password": "wrong"}).status_code == 200


@override_settings(AXES_FAILURE_LIMIT=5)
def test_passwords_are_checked_by_the_validators(user):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("12345678", "password", "wang1"):
        with pytest.raises(ValidationError):
            validate_password(weak, user)
