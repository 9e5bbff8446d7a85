import base64
import io

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import DEMO_RECOVERY_CODES, DEMO_TOTP_SECRET
from accounts.models import CaregiverProfile, County, Institution, Role, User
from certification.models import Certificate, Evaluation, Exam, ServiceMonth, StarRuleSet
from content.models import Clause, HomePage, ServiceItem, Standard
from tests.factories.accounts import totp_code
from training.models import (
    BatchMember,
    CourseCitation,
    CoursePage,
    LessonPage,
    SessionAttendance,
    TrainingBatch,
    TrainingHoursEntry,
    TrainingSettings,
)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [
        County,
        Institution,
        User,
        CaregiverProfile,
        Standard,
        Clause,
        ServiceItem,
        CoursePage,
        LessonPage,
        Exam,
        TrainingBatch,
        BatchMember,
        SessionAttendance,
        TrainingHoursEntry,
        Evaluation,
        ServiceMonth,
        Certificate,
        TOTPDevice,
        StaticToken,
    ]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_is_complete_and_idempotent(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", caregivers=20, stdout=io.StringIO())
    first = counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", caregivers=20, stdout=io.StringIO())
    assert counts() == first

    assert first["County"] == 6
    assert first["Institution"] == 12
    assert first["CaregiverProfile"] == 20
    assert first["Standard"] == 3
    assert set(Institution.objects.values_list("kind", flat=True)) == {"medical", "elderly_care", "home_care"}
    assert all("演示" in name for name in Institution.objects.values_list("name", flat=True))
    for role in Role:
        assert User.objects.filter(role=role).exists(), role
    assert StarRuleSet.objects.get().is_illustrative
    # Evaluations at each step of the walk-through; the decided one has its certificate.
    assert set(Evaluation.objects.values_list("status", flat=True)) == {"applied", "assigned", "proposed", "decided"}
    decided = Evaluation.objects.get(status="decided")
    assert decided.level >= 1 and Certificate.objects.get(evaluation=decided).status == "valid"
    assert first["ServiceMonth"] == 20 * 6

    course, second = CoursePage.objects.live().order_by("pk")
    assert course.lessons().count() == 3
    assert second.lessons().count() == 2
    assert {block.block_type for lesson in second.lessons() for block in lesson.body} >= {"procedure", "self_check"}
    home = client.get("/")
    assert home.status_code == 200
    assert course.title in home.content.decode() and second.title in home.content.decode()
    assert HomePage.objects.get().demo_notice in home.content.decode()
    assert client.get(course.url).status_code == 200

    # The training settings make the first course required; the finished batch completed it for most of its roster.
    assert list(TrainingSettings.load().required_courses.all()) == [course]
    finished, upcoming = TrainingBatch.objects.order_by("starts_on")
    assert finished.course == course and upcoming.course == second
    assert finished.enrollments.filter(completed_at__isnull=False).count() == finished.members.count() - 1
    assert TrainingHoursEntry.objects.filter(source="batch_session").count() == SessionAttendance.objects.count()
    assert upcoming.members.filter(caregiver__user__username="caregiver02").exists()
    assert CourseCitation.objects.filter(course=second, service_item__isnull=False).count() == 3


def sign_in(client, username: str, *, second_factor: str | None = None) -> None:
    """As a person trying the demo: the demo password, then (administrator, assessors) the code the authenticator
    app shows for the published demo key, or one of the published recovery codes."""
    signed_in = client.post("/accounts/login/", {"username": username, "password": "carestar-demo"})
    assert signed_in.status_code == 302, username
    if second_factor is not None:
        assert client.get("/accounts/home/")["Location"].startswith("/accounts/two-factor/verify/"), username
        verified = client.post("/accounts/two-factor/verify/", {"otp_token": second_factor})
        assert verified.status_code == 302 and verified["Location"] == "/accounts/home/", username


def demo_app_code(username: str) -> str:
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    assert base64.b32encode(device.bin_key).decode() == DEMO_TOTP_SECRET
    return totp_code(device)


def test_demo_logins_work(client):
    call_command("seed_demo", caregivers=2, stdout=io.StringIO())
    for username in ("trainer1", "manager1", "caregiver01"):
        sign_in(client, username)
        assert client.get("/accounts/home/")["Location"] != "/accounts/two-factor/verify/", username
        client.logout()
    for username in ("admin", "assessor1", "assessor2"):
        sign_in(client, username, second_factor=demo_app_code(username))
        client.logout()
    # Without a phone: a published recovery code, once.
    sign_in(client, "assessor1", second_factor=DEMO_RECOVERY_CODES[0])
    client.logout()
    client.post("/accounts/login/", {"username": "assessor1", "password": "carestar-demo"})
    used = client.post("/accounts/two-factor/verify/", {"otp_token": DEMO_RECOVERY_CODES[0]})
    assert used.status_code == 200 and "验证码不正确" in used.content.decode()
    client.logout()
    # Running the seed again gives the demo its codes back, and nobody a second app (once the wait that follows
    # the wrong code above is over).
    call_command("seed_demo", caregivers=2, stdout=io.StringIO())
    StaticDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    assert TOTPDevice.objects.filter(user__username="assessor1").count() == 1
    sign_in(client, "assessor1", second_factor=DEMO_RECOVERY_CODES[0])


def test_each_role_lands_on_its_workspace(client):
    call_command("seed_demo", caregivers=1, stdout=io.StringIO())
    landing = {
        "caregiver01": "/me/",
        "assessor1": "/assess/",
        "trainer1": "/admin/",
        "manager1": "/admin/",
        "admin": "/admin/",
    }
    for username, path in landing.items():
        second_factor = demo_app_code(username) if username in ("admin", "assessor1") else None
        sign_in(client, username, second_factor=second_factor)
        assert client.get("/accounts/home/")["Location"] == path, username
        assert client.get(path).status_code == 200, username
        client.logout()
