import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories.accounts import CaregiverFactory
from tests.factories.training import course_with_lessons, lesson_study, training_body_with_index
from training import services

pytestmark = pytest.mark.django_db


def queries_for(client, url) -> int:
    client.get(url)  # warm the per-process caches (content types, site root) so only the page's own cost counts
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_my_learning_costs_the_same_with_one_or_many_courses(client, caregiver):
    _, index = training_body_with_index()
    courses = [course_with_lessons(index, lessons=2, slug=f"c{n}") for n in range(6)]
    client.force_login(caregiver.user)
    services.enrollment_create(caregiver=caregiver, course=courses[0])
    lesson_study(caregiver, courses[0].lessons().first())
    few = queries_for(client, "/me/")

    for course in courses[1:]:
        services.enrollment_create(caregiver=caregiver, course=course)
        lesson_study(caregiver, course.lessons().first())
    many = queries_for(client, "/me/")
    assert many == few
    assert client.get("/me/").content.decode().count('style="width: 50%"') == 6


def test_home_page_costs_the_same_with_one_or_many_courses(client):
    _, index = training_body_with_index()
    course_with_lessons(index, slug="c0")
    few = queries_for(client, "/")
    for n in range(1, 8):
        course_with_lessons(index, slug=f"c{n}")
    assert queries_for(client, "/") == few


def test_my_learning_is_for_caregivers_only(client, assessor):
    assert client.get("/me/").status_code == 302
    client.force_login(assessor)
    assert client.get("/me/").status_code == 403
    client.force_login(CaregiverFactory().user)
    assert client.get("/me/").status_code == 200
