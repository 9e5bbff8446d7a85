import datetime
from decimal import Decimal

from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, TrainingBody
from training import services
from training.models import BatchSession, CourseIndexPage, CoursePage, LessonPage, LessonVisit, TrainingBatch

from .content import home_page


def training_body_with_index(code: str = "TB-A", name: str = "甲培训学校") -> tuple[TrainingBody, CourseIndexPage]:
    body = account_services.training_body_create(code=code, name=name)
    index = home_page().add_child(instance=CourseIndexPage(title=f"{name}课程", slug=code.lower(), training_body=body))
    account_services.training_body_grant_subtree(training_body=body, page=index)
    return body, index


def trainer_for(body: TrainingBody, username: str = "trainer"):
    return account_services.user_create(
        username=username, password="pw", name="培训老师", role=Role.TRAINING_BODY, training_body=body
    )


def course_with_lessons(
    index: CourseIndexPage, *, lessons: int = 2, slug: str = "course", clause=None, **fields
) -> CoursePage:
    course = index.add_child(
        instance=CoursePage(
            title=fields.pop("title", f"课程 {slug}"),
            slug=slug,
            summary=fields.pop("summary", "基础照护课程"),
            hours=Decimal("2.0"),
            **fields,
        )
    )
    for number in range(1, lessons + 1):
        body = [{"type": "paragraph", "value": f"<p>第 {number} 课内容</p>"}]
        if clause is not None:
            body.append({"type": "clause_citation", "value": {"clause": clause.pk, "comment": "引用"}})
        course.add_child(instance=LessonPage(title=f"第 {number} 课", slug=f"lesson-{number}", minutes=45, body=body))
    return course


def lesson_study(caregiver, lesson: LessonPage, *, minutes_ago: int = 60):
    """Open the lesson as the learner would have `minutes_ago`, then mark it as studied."""
    enrollment = caregiver.enrollments.get(course_id=lesson.get_parent().id)
    visit = services.lesson_visit_record(enrollment=enrollment, lesson=lesson)
    LessonVisit.objects.filter(pk=visit.pk).update(opened_at=timezone.now() - datetime.timedelta(minutes=minutes_ago))
    return services.lesson_complete(caregiver=caregiver, lesson=lesson)


def batch_with_sessions(
    body: TrainingBody, course: CoursePage, *, sessions: int = 2, days_ago: int = 3, **fields
) -> TrainingBatch:
    """A batch whose sessions began `days_ago` days ago, one a day (negative: in the future)."""
    start = timezone.now() - datetime.timedelta(days=days_ago)
    batch = TrainingBatch.objects.create(
        training_body=body,
        course=course,
        name=fields.pop("name", "2026 年第 1 期"),
        starts_on=timezone.localdate(start),
        ends_on=timezone.localdate(start) + datetime.timedelta(days=sessions),
        place=fields.pop("place", "培训教室"),
        **fields,
    )
    for number in range(sessions):
        starts_at = start + datetime.timedelta(days=number)
        BatchSession.objects.create(
            batch=batch,
            topic=f"第 {number + 1} 次课",
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=3),
            hours=Decimal("4.0"),
        )
    return batch
