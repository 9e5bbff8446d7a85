import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories.accounts import CaregiverFactory
from tests.factories.content import ClauseFactory, ServiceItemFactory
from tests.factories.training import (
    batch_with_sessions,
    course_with_lessons,
    lesson_study,
    trainer_for,
    training_body_with_index,
)
from training import services
from training.models import LessonPage, LessonVisit, TrainingHoursEntry

pytestmark = pytest.mark.django_db


def queries_for(client, url) -> int:
    client.get(url)  # warm the per-process caches (content types, site root) so only the page's own cost counts
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_my_learning_costs_the_same_with_one_or_many_courses(client, caregiver):
    body, index = training_body_with_index()
    trainer = trainer_for(body)
    courses = [course_with_lessons(index, lessons=2, slug=f"c{n}") for n in range(6)]
    client.force_login(caregiver.user)
    services.enrollment_create(caregiver=caregiver, course=courses[0])
    lesson_study(caregiver, courses[0].lessons().first())
    batch = batch_with_sessions(body, courses[0], sessions=1, days_ago=-1)
    services.batch_roster_add(batch=batch, caregivers=[caregiver], user=trainer)
    few = queries_for(client, "/me/")

    for course in courses[1:]:
        services.enrollment_create(caregiver=caregiver, course=course)
        lesson_study(caregiver, course.lessons().first())
        batch = batch_with_sessions(body, course, sessions=2, days_ago=-2)
        services.batch_roster_add(batch=batch, caregivers=[caregiver], user=trainer)
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


def test_my_learning_shows_whats_next_hours_this_year_and_classes(client, caregiver):
    body, index = training_body_with_index()
    online = course_with_lessons(index, lessons=2, slug="online", title="线上课程")
    classroom = course_with_lessons(index, lessons=1, slug="classroom", title="集中培训课程")
    services.enrollment_create(caregiver=caregiver, course=online)
    lesson_study(caregiver, online.lessons().first())
    batch = batch_with_sessions(body, classroom, sessions=2, days_ago=-3, name="第 9 期")
    trainer = trainer_for(body)
    services.batch_roster_add(batch=batch, caregivers=[caregiver], user=trainer)
    TrainingHoursEntry.objects.create(
        caregiver=caregiver, hours=10, source="adjustment", earned_on=datetime.date(2020, 1, 1)
    )

    client.force_login(caregiver.user)
    page = client.get("/me/").content.decode()
    second = online.lessons()[1]
    assert second.title in page and second.url in page  # the next lesson to study
    assert "第 9 期" in page and batch.sessions.first().topic in page  # the upcoming class
    assert "本年度学时：<strong>1.0</strong>" in page  # the old adjustment is not this year's
    assert "累计：11.0" in page
    assert "线上课程" in page and "集中培训课程" in page


def lesson_with_blocks(index, slug: str, count: int) -> LessonPage:
    course = course_with_lessons(index, lessons=1, slug=slug)
    body = []
    for number in range(count):
        clause = ClauseFactory()
        item = ServiceItemFactory(steps="第一步\n第二步")
        body += [
            {"type": "clause_citation", "value": {"clause": clause.pk, "comment": ""}},
            {"type": "procedure", "value": {"service_item": item.pk, "note": ""}},
            {"type": "key_points", "value": {"title": "要点", "points": [f"要点 {number}"]}},
            {
                "type": "self_check",
                "value": {
                    "question": f"第 {number} 题",
                    "options": [{"text": "对", "correct": True}, {"text": "错", "correct": False}],
                    "explanation": "",
                },
            },
        ]
    lesson = course.add_child(instance=LessonPage(title="长课节", slug="long", minutes=45, body=body))
    return lesson


def test_the_lesson_page_costs_the_same_with_3_or_30_citations_and_procedures(client, caregiver):
    _, index = training_body_with_index()
    short = lesson_with_blocks(index, "short", 3)
    long = lesson_with_blocks(index, "long", 30)
    for lesson in (short, long):
        services.enrollment_create(caregiver=caregiver, course=lesson.get_parent().specific)
    client.force_login(caregiver.user)
    few = queries_for(client, short.url)
    many = queries_for(client, long.url)
    assert many == few
    # Wagtail's routing and the session take 12 of these; the lesson itself (enrolment, first visit, course,
    # siblings, completions, settings, clauses, service items, demo banner) takes the rest.
    assert few <= 22
    page = client.get(long.url).content.decode()
    assert page.count('class="clause"') == 30 and page.count("第二步") == 30


def test_the_lesson_page_says_how_long_to_study_and_remembers_the_first_visit(client, caregiver):
    _, index = training_body_with_index()
    course = course_with_lessons(index, lessons=1)
    services.enrollment_create(caregiver=caregiver, course=course)
    lesson = course.lessons().first()
    client.force_login(caregiver.user)
    page = client.get(lesson.url).content.decode()
    assert "本节至少需学习 23 分钟" in page
    first_visit = LessonVisit.objects.get().opened_at
    LessonVisit.objects.update(opened_at=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(lesson.url).content.decode()
    assert "本节至少需学习" not in page
    assert LessonVisit.objects.get().opened_at < first_visit
