from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories.training import course_with_lessons, training_body_with_index
from training import services
from training.models import Enrollment, TrainingHoursEntry
from training.selectors import caregiver_hours_total

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(db):
    _, index = training_body_with_index()
    return course_with_lessons(index, lessons=2)


def test_enrolling_twice_keeps_one_enrolment(caregiver, course):
    first = services.enrollment_create(caregiver=caregiver, course=course)
    assert services.enrollment_create(caregiver=caregiver, course=course).pk == first.pk
    assert Enrollment.objects.count() == 1


def test_lessons_earn_hours_once_and_complete_the_course(caregiver, course):
    enrollment = services.enrollment_create(caregiver=caregiver, course=course)
    first, second = course.lessons()
    services.lesson_complete(caregiver=caregiver, lesson=first)
    services.lesson_complete(caregiver=caregiver, lesson=first)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is None
    assert caregiver_hours_total(caregiver=caregiver) == Decimal("1.0")

    services.lesson_complete(caregiver=caregiver, lesson=second)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    entries = TrainingHoursEntry.objects.filter(caregiver=caregiver)
    assert entries.count() == 2
    assert all(entry.source == TrainingHoursEntry.Source.LESSON and entry.lesson_completion for entry in entries)


def test_lessons_need_an_enrolment(caregiver, course):
    with pytest.raises(PermissionDenied):
        services.lesson_complete(caregiver=caregiver, lesson=course.lessons().first())


def test_course_and_lesson_pages_over_http(client, caregiver, course):
    lesson = course.lessons().first()
    client.force_login(caregiver.user)
    # Not enrolled yet: the lesson sends the learner to the course page.
    assert client.get(lesson.url)["Location"] == course.url
    assert "enrol" in client.get(course.url).content.decode()

    client.post(f"/training/courses/{course.pk}/enrol/")
    page = client.get(lesson.url)
    assert page.status_code == 200
    assert "第 1 课内容" in page.content.decode()

    response = client.post(f"/training/lessons/{lesson.pk}/complete/")
    assert response["Location"] == course.lessons()[1].url
    assert Enrollment.objects.get().lesson_completions.count() == 1


def test_only_caregivers_enrol(client, course, assessor):
    client.force_login(assessor)
    assert client.post(f"/training/courses/{course.pk}/enrol/").status_code == 403
