"""Administrators and assessors pass a second factor (an authenticator app, or a single-use recovery code) before
they work, on the site and in the admin; the others sign in with their password alone."""

import base64
import datetime
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.models import ModelLogEntry

from accounts import services
from accounts.checks import otp_required_roles_check
from accounts.models import Role
from tests.factories.accounts import (
    PASSWORD,
    InstitutionFactory,
    TOTPDeviceFactory,
    UserFactory,
    manager_for,
    totp_code,
)

pytestmark = pytest.mark.django_db

SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"
CODES = "/accounts/two-factor/recovery-codes/"
MANAGE = "/accounts/two-factor/"


@pytest.fixture
def bureau_admin(db):
    """An administrator with the administrators' group, so that the Wagtail admin is theirs."""
    user = UserFactory(role=Role.ADMINISTRATOR, name="医保局管理员")
    user.groups.add(services.role_groups_ensure()[Role.ADMINISTRATOR])
    return user


def sign_in(client: Client, user) -> None:
    """With the password, through the sign-in form (django-axes watches it)."""
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def wrong_code(device) -> str:
    """A six-digit code the device accepts at no time step it looks at now."""
    valid = {totp_code(device, steps_ahead=steps) for steps in range(-device.tolerance, device.tolerance + 1)}
    return next(code for code in (f"{n:06d}" for n in range(123456, 1_000_000)) if code not in valid)


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """A user who has set up their authenticator app earlier, with their recovery codes."""
    device = TOTPDeviceFactory(user=user)
    return device, services.two_factor_recovery_codes_regenerate(user=user)


def verified(client: Client, user) -> TOTPDevice:
    """Signed in with the password, then the code, as a person does."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrolled(user)[0]
    sign_in(client, user)
    assert client.post(VERIFY, {"otp_token": totp_code(device)}).status_code == 302
    return device


def session_verified(client: Client) -> bool:
    from django_otp import DEVICE_ID_SESSION_KEY

    return DEVICE_ID_SESSION_KEY in client.session


def wait_out_throttle(device) -> None:
    """As if the person waited long enough after their wrong codes."""
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=F("throttling_failure_timestamp") - datetime.timedelta(minutes=10)
    )


# --- Who -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.ASSESSOR])
def test_an_administrator_or_assessor_without_an_app_is_sent_to_set_one_up(client, role):
    user = UserFactory(role=role)
    sign_in(client, user)
    response = client.get("/accounts/home/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Faccounts%2Fhome%2F"
    assert "设置两步验证" in client.get(response["Location"]).content.decode()


def test_a_superuser_of_any_role_needs_it_too(client):
    user = UserFactory(role=Role.CAREGIVER, is_superuser=True)
    sign_in(client, user)
    assert client.get("/accounts/home/")["Location"].startswith(SETUP)


@pytest.mark.unverified
def test_caregivers_trainers_and_managers_sign_in_with_their_password_alone(client, caregiver):
    body = services.training_body_create(code="TB-2FA", name="测试培训机构")
    trainer = services.user_create(
        username="trainer", password=PASSWORD, name="赵培训", role=Role.TRAINING_BODY, training_body=body
    )
    manager = manager_for(InstitutionFactory())
    for user, page in ((caregiver.user, "/me/"), (trainer, "/admin/"), (manager, "/admin/")):
        client.force_login(user)
        response = client.get(page)
        assert response.status_code == 200, (user.role, response.get("Location"))
        assert not TOTPDevice.objects.filter(user=user).exists()
    assert "两步验证" not in client.get("/").content.decode()  # no menu entry for them


def test_the_roles_are_a_setting(client, settings, assessor):
    settings.OTP_REQUIRED_ROLES = ["administrator"]
    sign_in(client, assessor)
    assert client.get("/assess/").status_code == 200


def test_an_unknown_role_in_the_setting_stops_start_up(settings):
    settings.OTP_REQUIRED_ROLES = ["administrator", "asessor"]
    (error,) = otp_required_roles_check(None)
    assert error.id == "accounts.E001" and "asessor" in error.msg
    settings.OTP_REQUIRED_ROLES = ["administrator", "assessor"]
    assert otp_required_roles_check(None) == []


def test_other_tests_sign_staff_in_verified(client, bureau_admin):
    """The suite's force_login passes the second factor for those who need it (tests/conftest.py)."""
    client.force_login(bureau_admin)
    assert session_verified(client)
    assert client.get("/admin/").status_code == 200


# --- Setting up ----------------------------------------------------------------------------------------------


def test_the_setup_page_shows_the_app_its_qr_code_and_key(client, bureau_admin):
    sign_in(client, bureau_admin)
    html = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=bureau_admin)
    assert not device.confirmed
    assert '<svg width="' in html and 'class="segno"' in html  # inline: nothing for the policy to block
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    assert device.config_url.startswith(f"otpauth://totp/CareStar%3A{bureau_admin.username}?secret={secret}")
    assert "issuer=CareStar" in device.config_url
    # Coming back shows the same app, not a new one each time.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=bureau_admin).count() == 1


def test_a_wrong_first_code_leaves_the_app_unconfirmed(client, bureau_admin):
    sign_in(client, bureau_admin)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=bureau_admin)
    response = client.post(SETUP, {"otp_token": wrong_code(device), "next": "/admin/"})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and not StaticDevice.objects.filter(user=bureau_admin).exists()
    assert client.get("/admin/")["Location"].startswith(SETUP)


def test_the_right_first_code_confirms_the_app_and_shows_recovery_codes_once(client, bureau_admin):
    sign_in(client, bureau_admin)
    client.get(SETUP + "?next=/admin/pages/")
    device = TOTPDevice.objects.get(user=bureau_admin)
    response = client.post(SETUP, {"otp_token": totp_code(device), "next": "/admin/pages/"})
    assert response["Location"] == f"{CODES}?next=%2Fadmin%2Fpages%2F"
    device.refresh_from_db()
    assert device.confirmed and session_verified(client)

    page = client.get(response["Location"])
    html = page.content.decode()
    tokens = list(StaticToken.objects.filter(device__user=bureau_admin).values_list("token", flat=True))
    assert len(tokens) == 10
    assert all(f"{token[:4]} {token[4:]}" in html for token in tokens)
    assert 'href="/admin/pages/"' in html
    # Shown once: the page does not show them again.
    again = client.get(CODES)
    assert again.status_code == 302 and again["Location"] == MANAGE
    assert tokens[0][:4] + " " not in client.get(MANAGE).content.decode()

    assert client.get("/admin/pages/").status_code == 200
    entry = ModelLogEntry.objects.get(action="carestar.two_factor.enrol")
    assert entry.object_id == str(bureau_admin.pk) and entry.user == bureau_admin


def test_an_unverified_session_cannot_replace_a_confirmed_app(client, bureau_admin):
    device, _codes = enrolled(bureau_admin)
    sign_in(client, bureau_admin)
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"otp_token": "123456"})["Location"].startswith(VERIFY)
    assert list(TOTPDevice.objects.filter(user=bureau_admin)) == [device]


def test_a_verified_user_sets_up_a_new_phone_and_the_old_one_stops_working(client, bureau_admin):
    old = verified(client, bureau_admin)
    old_codes = list(StaticToken.objects.filter(device__user=bureau_admin).values_list("token", flat=True))
    assert "新手机" in client.get(SETUP).content.decode()
    new = TOTPDevice.objects.get(user=bureau_admin, confirmed=False)
    assert client.post(SETUP, {"otp_token": totp_code(new)}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=bureau_admin)) == [new]
    assert not StaticToken.objects.filter(token__in=old_codes).exists()
    assert client.get("/admin/").status_code == 200  # the session moved to the new app
    assert old.pk != new.pk


# --- Verifying -----------------------------------------------------------------------------------------------


def test_signing_in_again_asks_for_the_apps_code_and_returns_to_the_page(client, bureau_admin):
    device, _codes = enrolled(bureau_admin)
    sign_in(client, bureau_admin)
    response = client.get("/admin/pages/")
    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=%2Fadmin%2Fpages%2F"
    page = client.get(response["Location"]).content.decode()
    assert "两步验证" in page and 'value="/admin/pages/"' in page
    done = client.post(VERIFY, {"otp_token": totp_code(device), "next": "/admin/pages/"})
    assert done.status_code == 302 and done["Location"] == "/admin/pages/"
    assert client.get("/admin/pages/").status_code == 200


def test_the_admins_own_sign_in_page_leads_to_the_code_too(client, bureau_admin):
    device, _codes = enrolled(bureau_admin)
    signed_in = client.post("/admin/login/", {"username": bureau_admin.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    response = client.get(signed_in["Location"])
    assert response.status_code == 302 and response["Location"].startswith(f"{VERIFY}?next=%2Fadmin%2F")
    client.post(VERIFY, {"otp_token": totp_code(device)})
    assert client.get("/admin/").status_code == 200


def test_a_code_is_accepted_once(client, bureau_admin):
    device, _codes = enrolled(bureau_admin)
    code = totp_code(device)
    verified_once = Client()
    sign_in(verified_once, bureau_admin)
    assert verified_once.post(VERIFY, {"otp_token": code}).status_code == 302
    sign_in(client, bureau_admin)
    replay = client.post(VERIFY, {"otp_token": code})
    assert replay.status_code == 200 and "验证码不正确" in replay.content.decode()


def test_a_recovery_code_works_once(client, bureau_admin):
    _device, codes = enrolled(bureau_admin)
    sign_in(client, bureau_admin)
    typed = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"  # as printed, in capitals
    assert client.post(VERIFY, {"otp_token": typed})["Location"] == "/accounts/home/"
    assert session_verified(client)
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert StaticToken.objects.filter(device__user=bureau_admin).count() == 9

    other = Client()
    sign_in(other, bureau_admin)
    again = other.post(VERIFY, {"otp_token": codes[0]})
    assert again.status_code == 200 and "验证码不正确" in again.content.decode()
    assert not session_verified(other)
    assert "尚有 9 个未使用的恢复码" in client.get(MANAGE).content.decode()


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "请输入身份验证器应用显示的 6 位验证码"),
        ("1" * 65, "不超过 64 字符"),  # longer than any code: the field's own limit
        ("12\x0034", "空字符串"),
        ("一二三四五六", "验证码不正确"),
    ],
)
def test_bad_input_is_answered_in_words(client, bureau_admin, code, message):
    enrolled(bureau_admin)
    sign_in(client, bureau_admin)
    response = client.post(VERIFY, {"otp_token": code})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not session_verified(client)


def test_without_recovery_codes_only_the_app_code_is_asked_for(client, bureau_admin):
    TOTPDeviceFactory(user=bureau_admin)
    sign_in(client, bureau_admin)
    response = client.post(VERIFY, {"otp_token": "abcdefgh"})
    assert response.status_code == 200 and "或输入一个恢复码" in response.content.decode()


def test_wrong_codes_are_throttled(client, bureau_admin, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 30  # waits of 30, 60, 120 … s instead of 1, 2, 4 …: no race with the clock
    device, _codes = enrolled(bureau_admin)
    sign_in(client, bureau_admin)

    def wait_asked(response) -> int:
        found = re.search(r"验证码输错次数过多，请在 (\d+) 秒后重试", response.content.decode())
        assert response.status_code == 200 and found, response.content.decode()[-1500:]
        return int(found.group(1))

    assert "验证码不正确" in client.post(VERIFY, {"otp_token": wrong_code(device)}).content.decode()
    # Straight after a wrong code even the right one waits.
    assert 25 <= wait_asked(client.post(VERIFY, {"otp_token": totp_code(device)})) <= 30
    device.refresh_from_db()
    assert device.throttling_failure_count == 1 and not session_verified(client)

    wait_out_throttle(device)
    client.post(VERIFY, {"otp_token": wrong_code(device)})
    assert 55 <= wait_asked(client.post(VERIFY, {"otp_token": totp_code(device)})) <= 60  # twice as long

    wait_out_throttle(device)
    assert client.post(VERIFY, {"otp_token": totp_code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_wrong_codes_count_toward_the_sign_in_lockout(client, bureau_admin, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own waits are tested above
    device, _codes = enrolled(bureau_admin)
    second_session = Client()
    sign_in(second_session, bureau_admin)
    sign_in(client, bureau_admin)
    for _ in range(2):
        assert client.post(VERIFY, {"otp_token": wrong_code(device)}).status_code == 200
    locked = client.post(VERIFY, {"otp_token": wrong_code(device)})
    assert locked.status_code == 429 and "登录已暂停" in locked.content.decode()
    assert SESSION_KEY not in client.session  # signed out
    # Neither the password nor another session's code gets past the lockout now.
    assert client.post("/accounts/login/", {"username": bureau_admin.username, "password": PASSWORD}).status_code == 429
    refused = second_session.post(VERIFY, {"otp_token": totp_code(device)})
    assert refused.status_code == 429 and SESSION_KEY not in second_session.session


# --- Where the requirement does not reach -------------------------------------------------------------------


def test_the_two_factor_pages_never_loop(client, bureau_admin):
    sign_in(client, bureau_admin)
    assert client.get(SETUP).status_code == 200
    assert client.get(VERIFY)["Location"].startswith(SETUP)  # nothing to verify with yet
    TOTPDevice.objects.filter(user=bureau_admin).update(confirmed=True)
    assert client.get(VERIFY).status_code == 200
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    # Language and sign-out work before the code.
    assert client.post("/i18n/setlang/", {"language": "en", "next": VERIFY})["Location"] == VERIFY
    assert "Two-step verification" in client.get(VERIFY).content.decode()
    assert client.get("/static/css/site.css").status_code != 302
    assert client.post("/accounts/logout/").status_code == 302
    assert SESSION_KEY not in client.session


def test_a_next_to_another_site_is_not_followed(client, bureau_admin):
    _device, codes = enrolled(bureau_admin)
    sign_in(client, bureau_admin)
    page = client.get(VERIFY + "?next=https://evil.example/steal").content.decode()
    assert 'type="hidden" name="next" value="/accounts/home/"' in page
    for index, next_url in enumerate(["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"]):
        response = client.post(VERIFY, {"otp_token": codes[index], "next": next_url})
        assert response["Location"] == "/accounts/home/", next_url
        client.post("/accounts/logout/")
        sign_in(client, bureau_admin)


def test_token_and_public_json_endpoints_answer_an_unverified_session_as_usual(client, bureau_admin, certificate):
    sign_in(client, bureau_admin)
    api = client.post("/api/service-data/", data="{}", content_type="application/json")
    assert api.status_code == 401 and api["Content-Type"].startswith("application/json")
    assert client.get(f"/verify/{certificate.verification_code}.json").status_code == 200
    assert client.get("/verify/NO-SUCH-CODE.json").status_code == 404
    assert client.get("/ob/issuer/").status_code == 200
    # A page is another matter.
    assert client.get(f"/verify/{certificate.verification_code}/")["Location"].startswith(SETUP)


# --- Recovery codes and resets -------------------------------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(client, bureau_admin):
    verified(client, bureau_admin)
    old = set(StaticToken.objects.filter(device__user=bureau_admin).values_list("token", flat=True))
    assert "尚有 10 个未使用的恢复码" in client.get(MANAGE).content.decode()
    response = client.post("/accounts/two-factor/recovery-codes/new/")
    assert response["Location"] == CODES
    html = client.get(CODES).content.decode()
    new = set(StaticToken.objects.filter(device__user=bureau_admin).values_list("token", flat=True))
    assert len(new) == 10 and not new & old
    assert all(f"{token[:4]} {token[4:]}" in html for token in new)
    assert ModelLogEntry.objects.filter(action="carestar.two_factor.recovery_codes", user=bureau_admin).exists()
    assert client.get("/accounts/two-factor/recovery-codes/new/").status_code == 405


def test_an_administrator_resets_a_lost_phone_and_it_is_recorded(client, bureau_admin):
    assessor = UserFactory(role=Role.ASSESSOR, name="周考评")
    assessor_session = Client()
    verified(assessor_session, assessor)
    client.force_login(bureau_admin)

    edit = client.get(f"/admin/users/edit/{assessor.pk}/").content.decode()
    reset_url = f"/admin/users/two-factor-reset/{assessor.pk}/"
    assert reset_url in edit
    confirm = client.get(reset_url).content.decode()
    assert "周考评" in confirm and "10 个未使用的恢复码" in confirm

    response = client.post(reset_url)
    assert response.status_code == 302 and response["Location"] == f"/admin/users/edit/{assessor.pk}/"
    assert not TOTPDevice.objects.filter(user=assessor).exists()
    assert not StaticDevice.objects.filter(user=assessor).exists()
    entry = ModelLogEntry.objects.get(action="carestar.two_factor.reset")
    assert entry.object_id == str(assessor.pk) and entry.user == bureau_admin
    assert "已重置两步验证" in client.get(f"/admin/users/history/{assessor.pk}/").content.decode()
    # The assessor's session is no longer verified: their next page asks them to set up a new phone.
    assert assessor_session.get("/assess/")["Location"].startswith(SETUP)


def test_only_administrators_reset(client, bureau_admin, assessor):
    enrolled(bureau_admin)
    reset_url = f"/admin/users/two-factor-reset/{bureau_admin.pk}/"
    for user in (manager_for(InstitutionFactory()), assessor):
        client.force_login(user)
        assert client.post(reset_url).status_code in (302, 403)
        assert client.get(reset_url).status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=bureau_admin).exists()


def test_the_admin_account_page_links_to_the_settings(client, bureau_admin):
    client.force_login(bureau_admin)
    assert 'href="/accounts/two-factor/"' in client.get("/admin/account/").content.decode()


# --- Cost ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/admin/", "/assess/"])
def test_a_verified_request_costs_one_device_lookup(bureau_admin, assessor, settings, page):
    user = bureau_admin if page == "/admin/" else assessor

    def queries() -> list[str]:
        client = Client()  # a new client loads the middleware as the settings now say
        client.force_login(user)
        client.get(page)
        with CaptureQueriesContext(connection) as context:
            assert client.get(page).status_code == 200
        return [query["sql"] for query in context.captured_queries]

    with_second_factor = queries()
    settings.MIDDLEWARE = [
        name
        for name in settings.MIDDLEWARE
        if name not in ("django_otp.middleware.OTPMiddleware", "accounts.middleware.TwoFactorRequiredMiddleware")
    ]
    without = queries()
    extra = [sql for sql in with_second_factor if "otp_totp_totpdevice" in sql]
    assert len(with_second_factor) == len(without) + 1
    assert len(extra) == 1 and not any("otp_totp_totpdevice" in sql for sql in without)
