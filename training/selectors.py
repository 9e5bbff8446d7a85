from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import CaregiverProfile

from .models import CoursePage, Enrollment, LessonPage, TrainingHoursEntry


def caregiver_for(user) -> CaregiverProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.caregiver_profile
    except CaregiverProfile.DoesNotExist:
        return None


def course_list_live():
    return CoursePage.objects.live().public().order_by("-first_published_at")


def enrollment_for(*, user, course_id: int) -> Enrollment | None:
    caregiver = caregiver_for(user)
    if caregiver is None:
        return None
    return Enrollment.objects.filter(caregiver=caregiver, course_id=course_id).first()


def completed_lesson_ids(*, enrollment: Enrollment | None) -> set[int]:
    if enrollment is None:
        return set()
    return set(enrollment.lesson_completions.values_list("lesson_id", flat=True))


def course_progress_for(*, course: CoursePage, user) -> dict:
    enrollment = enrollment_for(user=user, course_id=course.id)
    lessons = list(course.lessons())
    done = completed_lesson_ids(enrollment=enrollment)
    return {
        "enrollment": enrollment,
        "is_caregiver": caregiver_for(user) is not None,
        "lessons": [(lesson, lesson.id in done) for lesson in lessons],
        "lessons_done": sum(1 for lesson in lessons if lesson.id in done),
        "lessons_total": len(lessons),
    }


def lesson_navigation(*, lesson: LessonPage, user) -> dict:
    course = lesson.get_parent().specific
    siblings = list(course.lessons())
    position = next((i for i, sibling in enumerate(siblings) if sibling.id == lesson.id), 0)
    enrollment = enrollment_for(user=user, course_id=course.id)
    return {
        "course": course,
        "enrollment": enrollment,
        "is_completed": lesson.id in completed_lesson_ids(enrollment=enrollment),
        "previous_lesson": siblings[position - 1] if position > 0 else None,
        "next_lesson": siblings[position + 1] if position + 1 < len(siblings) else None,
        "position": position + 1,
        "lessons_total": len(siblings),
    }


def caregiver_hours_total(*, caregiver: CaregiverProfile, since=None) -> Decimal:
    entries = TrainingHoursEntry.objects.filter(caregiver=caregiver)
    if since is not None:
        entries = entries.filter(earned_on__gte=since)
    return entries.aggregate(total=Sum("hours"))["total"] or Decimal("0")


def my_learning(*, caregiver: CaregiverProfile) -> dict:
    """Everything the caregiver's "my learning" page shows, in a fixed number of queries."""
    enrollments = list(
        Enrollment.objects.filter(caregiver=caregiver)
        .select_related("course")
        .annotate(lessons_done=Count("lesson_completions", distinct=True))
        .order_by("completed_at", "-enrolled_at")
    )
    course_paths = [enrollment.course.path for enrollment in enrollments]
    lesson_totals: dict[str, int] = {}
    if course_paths:
        path_filter = Q()
        for path in course_paths:
            path_filter |= Q(path__startswith=path, depth=len(path) // LessonPage.steplen + 1)
        for path in LessonPage.objects.live().filter(path_filter).values_list("path", flat=True):
            parent_path = path[: -LessonPage.steplen]
            lesson_totals[parent_path] = lesson_totals.get(parent_path, 0) + 1
    for enrollment in enrollments:
        enrollment.lessons_total = lesson_totals.get(enrollment.course.path, 0)
        enrollment.percent = (
            round(100 * enrollment.lessons_done / enrollment.lessons_total) if enrollment.lessons_total else 0
        )
    year_start = timezone.localdate().replace(month=1, day=1)
    return {
        "enrollments": enrollments,
        "hours_total": caregiver_hours_total(caregiver=caregiver),
        "hours_this_year": caregiver_hours_total(caregiver=caregiver, since=year_start),
    }
