"""What training's pages and the pages of lower apps show of training, read in the template so that the page
models import no selector."""

from django import template

from training import selectors

register = template.Library()


@register.simple_tag
def live_courses(limit: int = 12):
    """The newest published courses, for pages of lower apps (the home page) that list them."""
    return list(selectors.course_list_live()[:limit])


@register.simple_tag(takes_context=True)
def course_progress(context, course) -> dict:
    """The visitor's enrolment in the course, its lessons done, and what stops them enrolling."""
    return selectors.course_progress_for(course=course, user=context["request"].user)


@register.simple_tag(takes_context=True)
def lesson_navigation(context, lesson) -> dict:
    """Where the lesson stands in its course for the learner, and the minimum study time still to run.

    The enrolment and visit that serving the lesson found (training/wagtail_hooks.py) are reused; a preview
    looks the enrolment up.
    """
    enrollment = getattr(lesson, "enrollment", None)
    if enrollment is None:
        enrollment = selectors.enrollment_for(user=context["request"].user, course_id=lesson.course.pk)
    return selectors.lesson_navigation(lesson=lesson, enrollment=enrollment, visit=getattr(lesson, "visit", None))
