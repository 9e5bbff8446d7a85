"""Keep the citation index in step with what is published.

Courses and lessons go live or come down in many places (the editor, workflow approval, scheduled publishing,
unpublishing a parent, deleting, moving); Wagtail's page signals are the one point they all pass. The refresh
waits for the transaction to commit so that it reads the tree as it ends up (a deleted page is gone by then).
"""

from django.db import transaction

from .models import CoursePage, LessonPage


def _course_id(page) -> int | None:
    if isinstance(page, CoursePage):
        return page.pk
    if isinstance(page, LessonPage):
        parent_path = page.path[: -LessonPage.steplen]
        return CoursePage.objects.filter(path=parent_path).values_list("pk", flat=True).first()
    return None


def _refresh_after_commit(course_id: int | None) -> None:
    if course_id is None:
        return
    from .services import course_citations_refresh

    transaction.on_commit(lambda: course_citations_refresh(course_id=course_id))


def page_published_or_unpublished(sender, instance, **kwargs):
    _refresh_after_commit(_course_id(instance))


def page_moved(sender, instance, parent_page_before=None, parent_page_after=None, **kwargs):
    if isinstance(instance.specific_deferred, LessonPage):
        for parent in (parent_page_before, parent_page_after):
            if parent is not None:
                _refresh_after_commit(parent.pk)
