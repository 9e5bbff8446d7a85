from decimal import Decimal

from accounts import services as account_services
from accounts.models import TrainingBody
from training.models import CourseIndexPage, CoursePage, LessonPage

from .content import home_page


def training_body_with_index(code: str = "TB-A", name: str = "甲培训学校") -> tuple[TrainingBody, CourseIndexPage]:
    body = account_services.training_body_create(code=code, name=name)
    index = home_page().add_child(instance=CourseIndexPage(title=f"{name}课程", slug=code.lower(), training_body=body))
    account_services.training_body_grant_subtree(training_body=body, page=index)
    return body, index


def course_with_lessons(index: CourseIndexPage, *, lessons: int = 2, slug: str = "course", clause=None) -> CoursePage:
    course = index.add_child(
        instance=CoursePage(title=f"课程 {slug}", slug=slug, summary="基础照护课程", hours=Decimal("2.0"))
    )
    for number in range(1, lessons + 1):
        body = [{"type": "paragraph", "value": f"<p>第 {number} 课内容</p>"}]
        if clause is not None:
            body.append({"type": "clause_citation", "value": {"clause": clause.pk, "comment": "引用"}})
        course.add_child(instance=LessonPage(title=f"第 {number} 课", slug=f"lesson-{number}", minutes=45, body=body))
    return course
