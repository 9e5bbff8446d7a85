import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories.accounts import CaregiverFactory
from tests.factories.training import course_with_lessons, lesson_study, training_body_with_index
from training import services
from training.models import Enrollment, LessonCompletion, LessonVisit, TrainingHoursEntry, TrainingSettings
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
    assert first.source == Enrollment.Source.SELF


def test_lessons_earn_hours_once_and_complete_the_course(caregiver, course):
    enrollment = services.enrollment_create(caregiver=caregiver, course=course)
    first, second = course.lessons()
    lesson_study(caregiver, first)
    services.lesson_complete(caregiver=caregiver, lesson=first)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is None
    assert caregiver_hours_total(caregiver=caregiver) == Decimal("1.0")

    lesson_study(caregiver, second)
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    entries = TrainingHoursEntry.objects.filter(caregiver=caregiver)
    assert entries.count() == 2
    assert all(entry.source == TrainingHoursEntry.Source.LESSON and entry.lesson_completion for entry in entries)


def test_lessons_need_an_enrolment(caregiver, course):
    with pytest.raises(PermissionDenied):
        services.lesson_complete(caregiver=caregiver, lesson=course.lessons().first())


def test_a_lesson_cannot_be_marked_studied_before_the_minimum_time(caregiver, course):
    settings = TrainingSettings.load()
    settings.lesson_minimum_percent = 50  # 45-minute lessons: 23 minutes at least
    settings.save()
    enrollment = services.enrollment_create(caregiver=caregiver, course=course)
    lesson = course.lessons().first()

    with pytest.raises(ValidationError) as never_opened:
        services.lesson_complete(caregiver=caregiver, lesson=lesson)
    assert "打开" in never_opened.value.messages[0]

    visit = services.lesson_visit_record(enrollment=enrollment, lesson=lesson)
    LessonVisit.objects.filter(pk=visit.pk).update(opened_at=timezone.now() - datetime.timedelta(minutes=20))
    with pytest.raises(ValidationError) as too_soon:
        services.lesson_complete(caregiver=caregiver, lesson=lesson)
    assert "23" in too_soon.value.messages[0] and "3" in too_soon.value.messages[0]
    assert not LessonCompletion.objects.exists()
    assert not TrainingHoursEntry.objects.exists()

    LessonVisit.objects.filter(pk=visit.pk).update(opened_at=timezone.now() - datetime.timedelta(minutes=23))
    assert services.lesson_complete(caregiver=caregiver, lesson=lesson).pk


def test_revisiting_a_lesson_keeps_the_first_opening_time(caregiver, course):
    enrollment = services.enrollment_create(caregiver=caregiver, course=course)
    lesson = course.lessons().first()
    first = services.lesson_visit_record(enrollment=enrollment, lesson=lesson)
    LessonVisit.objects.filter(pk=first.pk).update(opened_at=timezone.now() - datetime.timedelta(hours=1))
    again = services.lesson_visit_record(enrollment=enrollment, lesson=lesson)
    assert again.pk == first.pk
    assert timezone.now() - again.opened_at > datetime.timedelta(minutes=59)


def test_a_minimum_of_zero_turns_the_check_off(caregiver, course):
    TrainingSettings.objects.update_or_create(defaults={"lesson_minimum_percent": 0})
    services.enrollment_create(caregiver=caregiver, course=course)
    assert services.lesson_complete(caregiver=caregiver, lesson=course.lessons().first()).pk


def test_prerequisites_must_be_completed_before_enrolling(caregiver, course):
    _, index = training_body_with_index("TB-P", "丙培训学校")
    advanced = course_with_lessons(index, slug="advanced", title="进阶课程")
    advanced.prerequisites.add(course)
    advanced.save()

    with pytest.raises(ValidationError) as refused:
        services.enrollment_create(caregiver=caregiver, course=advanced)
    assert course.title in refused.value.messages[0]
    assert not Enrollment.objects.filter(course=advanced).exists()

    services.enrollment_create(caregiver=caregiver, course=course)
    for lesson in course.lessons():
        lesson_study(caregiver, lesson)
    assert services.enrollment_create(caregiver=caregiver, course=advanced).course_id == advanced.pk


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
    assert LessonVisit.objects.filter(lesson=lesson).count() == 1

    # Straight after opening it, the default minimum (half of 45 minutes) is not reached.
    too_soon = client.post(f"/training/lessons/{lesson.pk}/complete/", follow=True)
    assert "分钟" in too_soon.content.decode()
    assert not LessonCompletion.objects.exists()

    LessonVisit.objects.update(opened_at=timezone.now() - datetime.timedelta(minutes=30))
    response = client.post(f"/training/lessons/{lesson.pk}/complete/")
    assert response["Location"] == course.lessons()[1].url
    assert Enrollment.objects.get().lesson_completions.count() == 1


def test_only_caregivers_enrol(client, course, assessor):
    client.force_login(assessor)
    assert client.post(f"/training/courses/{course.pk}/enrol/").status_code == 403


def test_the_course_page_explains_a_missing_prerequisite(client, caregiver, course):
    _, index = training_body_with_index("TB-P", "丙培训学校")
    advanced = course_with_lessons(index, slug="advanced", title="进阶课程")
    advanced.prerequisites.add(course)
    advanced.save()
    client.force_login(caregiver.user)
    page = client.get(advanced.url).content.decode()
    assert course.title in page
    assert f"/training/courses/{advanced.pk}/enrol/" not in page
    refused = client.post(f"/training/courses/{advanced.pk}/enrol/", follow=True)
    assert "请先完成" in refused.content.decode()
    assert not Enrollment.objects.filter(caregiver=caregiver).exists()


def test_another_caregivers_enrolment_is_not_mine(client, course):
    other = CaregiverFactory()
    services.enrollment_create(caregiver=other, course=course)
    me = CaregiverFactory()
    client.force_login(me.user)
    lesson = course.lessons().first()
    assert client.get(lesson.url)["Location"] == course.url
    assert client.post(f"/training/lessons/{lesson.pk}/complete/").status_code == 403


def test_a_course_checks_its_target_star_levels_and_prerequisites(course):
    course.star_level_min, course.star_level_max = 4, 2
    with pytest.raises(ValidationError) as levels:
        course.full_clean()
    assert "star_level_max" in levels.value.message_dict
    course.star_level_min = 1
    course.prerequisites.add(course)
    with pytest.raises(ValidationError) as itself:
        course.full_clean()
    assert "prerequisites" in itself.value.message_dict


def test_an_options_request_to_a_lesson_counts_no_visit(client, caregiver, course):
    lesson = course.lessons().first()
    services.enrollment_create(caregiver=caregiver, course=course)
    client.force_login(caregiver.user)

    response = client.options(lesson.url)

    assert "GET" in response["Allow"]
    assert not LessonVisit.objects.filter(lesson=lesson).exists()
