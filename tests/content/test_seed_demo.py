import io

import pytest
from django.core.management import call_command

from accounts.models import CaregiverProfile, County, Institution, Role, User
from certification.models import Exam, StarRuleSet
from content.models import Clause, HomePage, ServiceItem, Standard
from training.models import CoursePage, LessonPage

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [County, Institution, User, CaregiverProfile, Standard, Clause, ServiceItem, CoursePage, LessonPage, Exam]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_is_complete_and_idempotent(client):
    call_command("seed_demo", caregivers=8, stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", caregivers=8, stdout=io.StringIO())
    assert counts() == first

    assert first["County"] == 6
    assert first["Institution"] == 12
    assert first["CaregiverProfile"] == 8
    assert first["Standard"] == 3
    assert set(Institution.objects.values_list("kind", flat=True)) == {"medical", "elderly_care", "home_care"}
    assert all("演示" in name for name in Institution.objects.values_list("name", flat=True))
    for role in Role:
        assert User.objects.filter(role=role).exists(), role
    assert StarRuleSet.objects.get().is_illustrative

    course = CoursePage.objects.live().get()
    assert course.lessons().count() == 3
    home = client.get("/")
    assert home.status_code == 200
    assert course.title in home.content.decode()
    assert HomePage.objects.get().demo_notice in home.content.decode()
    assert client.get(course.url).status_code == 200


def test_demo_logins_work(client):
    call_command("seed_demo", caregivers=2, stdout=io.StringIO())
    for username in ("admin", "trainer1", "assessor1", "manager1", "caregiver01"):
        assert client.login(username=username, password="carestar-demo"), username


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
        client.login(username=username, password="carestar-demo")
        assert client.get("/accounts/home/")["Location"] == path, username
        client.logout()
