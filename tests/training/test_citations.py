"""The citation index follows what is published: publishing, unpublishing, deleting and moving pages."""

import pytest

from tests.factories.content import ClauseFactory, ServiceItemFactory
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import CourseCitation, LessonPage
from training.services import course_citations_rebuild

pytestmark = pytest.mark.django_db


def cited(course) -> tuple[set, set]:
    rows = CourseCitation.objects.filter(course=course)
    return (
        {row.clause_id for row in rows if row.clause_id},
        {row.service_item_id for row in rows if row.service_item_id},
    )


@pytest.fixture
def library(db):
    return {"clause": ClauseFactory(), "other_clause": ClauseFactory(), "item": ServiceItemFactory()}


def test_publishing_a_lesson_records_its_citations_and_unpublishing_drops_them(
    library, django_capture_on_commit_callbacks
):
    _, index = training_body_with_index()
    course = course_with_lessons(index, lessons=0)
    course.service_items.add(library["item"])
    lesson = course.add_child(
        instance=LessonPage(
            title="第 1 课",
            slug="lesson-1",
            live=False,
            body=[
                {"type": "clause_citation", "value": {"clause": library["clause"].pk, "comment": ""}},
                {"type": "procedure", "value": {"service_item": library["item"].pk, "note": ""}},
            ],
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        course.save_revision().publish()
    assert cited(course) == (set(), {library["item"].pk})

    with django_capture_on_commit_callbacks(execute=True):
        lesson.save_revision().publish()
    assert cited(course) == ({library["clause"].pk}, {library["item"].pk})

    # A draft citing another clause changes nothing until it is published.
    lesson.body = [{"type": "clause_citation", "value": {"clause": library["other_clause"].pk, "comment": ""}}]
    with django_capture_on_commit_callbacks(execute=True):
        revision = lesson.save_revision()
    assert cited(course)[0] == {library["clause"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        revision.publish()
    assert cited(course)[0] == {library["other_clause"].pk}

    with django_capture_on_commit_callbacks(execute=True):
        course.unpublish()
    assert cited(course) == (set(), set())


def test_deleting_or_moving_a_lesson_updates_both_courses(library, django_capture_on_commit_callbacks):
    _, index = training_body_with_index()
    first = course_with_lessons(index, slug="first", lessons=1, clause=library["clause"])
    second = course_with_lessons(index, slug="second", lessons=0)
    course_citations_rebuild()
    assert cited(first)[0] == {library["clause"].pk} and cited(second)[0] == set()

    lesson = first.lessons().get()
    with django_capture_on_commit_callbacks(execute=True):
        lesson.move(second, pos="last-child")
    assert cited(first)[0] == set() and cited(second)[0] == {library["clause"].pk}

    with django_capture_on_commit_callbacks(execute=True):
        LessonPage.objects.get(pk=lesson.pk).delete()
    assert cited(second)[0] == set()


def test_a_deleted_clause_disappears_from_the_index(library):
    _, index = training_body_with_index()
    course = course_with_lessons(index, lessons=1, clause=library["clause"])
    course_citations_rebuild()
    library["clause"].delete()
    assert cited(course)[0] == set()
    course_citations_rebuild()
    assert cited(course)[0] == set()
