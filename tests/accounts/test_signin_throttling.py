"""After five wrong passwords an account is locked out from that address, on both sign-in pages, in words."""

import pytest
from django.test import Client, override_settings

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


def test_an_administrator_sees_the_lockout_and_lifts_it(client, user):
    from axes.models import AccessAttempt

    from accounts import services
    from accounts.models import Role
    from tests.factories.accounts import UserFactory

    for _ in range(5):
        client.post(PAGES[0], {"username": "wang", "password": "wrong"})
    (attempt,) = AccessAttempt.objects.filter(username="wang")

    administrator = UserFactory(role=Role.ADMINISTRATOR)
    administrator.groups.add(services.role_groups_ensure()[Role.ADMINISTRATOR])
    staff = Client()
    staff.force_login(administrator)
    listing = staff.get("/admin/sign-in-lockouts/")
    assert listing.status_code == 200 and "wang" in listing.content.decode()
    assert staff.post(f"/admin/sign-in-lockouts/delete/{attempt.pk}/").status_code == 302
    assert client.post(PAGES[0], {"username": "wang", "password": "correct-horse-battery"}).status_code == 302


def test_the_lockout_list_is_for_administrators_only(client, user):
    from accounts import services
    from tests.factories.accounts import InstitutionFactory, manager_for

    services.role_groups_ensure()
    client.force_login(manager_for(InstitutionFactory()))
    response = client.get("/admin/sign-in-lockouts/")
    assert response.status_code in (302, 403)


def test_the_lockout_list_costs_the_same_for_one_or_many(client):
    from axes.models import AccessAttempt
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import services
    from accounts.models import Role
    from tests.factories.accounts import UserFactory

    administrator = UserFactory(role=Role.ADMINISTRATOR)
    administrator.groups.add(services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)

    def queries(count: int) -> int:
        AccessAttempt.objects.all().delete()
        for n in range(count):
            AccessAttempt.objects.create(
                username=f"user{n}", ip_address=f"10.0.0.{n}", user_agent="x", failures_since_start=5
            )
        client.get("/admin/sign-in-lockouts/")
        with CaptureQueriesContext(connection) as context:
            assert client.get("/admin/sign-in-lockouts/").status_code == 200
        return len(context.captured_queries)

    assert queries(1) == queries(15)
