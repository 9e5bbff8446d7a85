"""Reads for training. Pages that list things cost a fixed number of queries however much data there is."""

import math
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.guards import caregiver_for
from accounts.models import CaregiverProfile, County, Institution, Role

from .models import (
    BatchMember,
    BatchSession,
    CourseCitation,
    CourseIndexPage,
    CoursePage,
    Enrollment,
    LessonCompletion,
    LessonPage,
    LessonVisit,
    SessionAttendance,
    TrainingBatch,
    TrainingHoursEntry,
    TrainingSettings,
)

COVER_RENDITION = "fill-480x270"


def lesson_seconds_remaining(*, visit: LessonVisit | None, lesson: LessonPage, settings: TrainingSettings) -> int:
    """Seconds before the lesson may be marked as studied (0 when it may be now)."""
    minimum = settings.lesson_minimum_seconds(lesson)
    if minimum <= 0:
        return 0
    if visit is None:
        return minimum
    elapsed = (timezone.now() - visit.opened_at).total_seconds()
    return max(0, math.ceil(minimum - elapsed))


# --- Courses ----------------------------------------------------------------------------------------------


def course_list_live():
    return CoursePage.objects.live().public().order_by("-first_published_at")


def course_search(
    *,
    text: str = "",
    service_item_id: int | None = None,
    star_level: int | None = None,
    training_body_id: int | None = None,
) -> QuerySet:
    """Live public courses matching every filter given, newest first.

    Text is matched as a substring of the title, summary and taught service items: Chinese has no spaces
    between words, so a word-based full-text index would not find 翻身 in 协助翻身与压疮预防.
    """
    from content.models import ServiceItem

    courses = course_list_live()
    if text:
        items = ServiceItem.objects.filter(
            Q(name__icontains=text) | Q(code__iexact=text), courses=OuterRef("pk"), live=True
        )
        courses = courses.filter(
            Q(title__icontains=text)
            | Q(summary__icontains=text)
            | Q(search_description__icontains=text)
            | Exists(items)
        )
    if service_item_id:
        courses = courses.filter(service_items=service_item_id)
    if star_level:
        courses = courses.filter(star_level_min__lte=star_level, star_level_max__gte=star_level)
    if training_body_id:
        index = CourseIndexPage.objects.filter(training_body_id=training_body_id).first()
        if index is None:
            return courses.none()
        courses = courses.descendant_of(index)
    return courses.distinct()


def course_cards(courses) -> list[CoursePage]:
    """The page of courses with what a card shows: training body and service items, in two more queries."""
    from wagtail.images import get_image_model

    from content.models import ServiceItem

    courses = list(
        courses.prefetch_related(
            Prefetch("service_items", queryset=ServiceItem.objects.filter(live=True)),
            Prefetch("cover_image", queryset=get_image_model().objects.prefetch_renditions(COVER_RENDITION)),
        )
    )
    if courses:
        bodies = dict(
            CourseIndexPage.objects.filter(path__in={course.path[: -CoursePage.steplen] for course in courses})
            .select_related("training_body")
            .values_list("path", "training_body__name")
        )
        for course in courses:
            course.training_body_name = bodies.get(course.path[: -CoursePage.steplen], "")
    return courses


def enrollment_for(*, user, course_id: int) -> Enrollment | None:
    caregiver = caregiver_for(user)
    if caregiver is None:
        return None
    return Enrollment.objects.filter(caregiver=caregiver, course_id=course_id).first()


def completed_lesson_ids(*, enrollment: Enrollment | None) -> set[int]:
    if enrollment is None:
        return set()
    return set(enrollment.lesson_completions.values_list("lesson_id", flat=True))


def prerequisites_missing(*, caregiver_ids: list[int], course: CoursePage) -> dict[int, list[str]]:
    """For each caregiver who lacks some, the titles of the course's live prerequisites they have not completed."""
    prerequisites = dict(course.prerequisites.live().values_list("pk", "title"))
    if not prerequisites or not caregiver_ids:
        return {}
    completed: dict[int, set[int]] = {}
    for caregiver_id, course_id in Enrollment.objects.filter(
        caregiver_id__in=caregiver_ids, course_id__in=prerequisites, completed_at__isnull=False
    ).values_list("caregiver_id", "course_id"):
        completed.setdefault(caregiver_id, set()).add(course_id)
    missing = {}
    for caregiver_id in caregiver_ids:
        titles = [title for pk, title in prerequisites.items() if pk not in completed.get(caregiver_id, set())]
        if titles:
            missing[caregiver_id] = titles
    return missing


def course_progress_for(*, course: CoursePage, user) -> dict:
    caregiver = caregiver_for(user)
    enrollment = enrollment_for(user=user, course_id=course.id)
    lessons = list(course.lessons())
    done = completed_lesson_ids(enrollment=enrollment)
    missing = []
    if caregiver is not None and enrollment is None:
        missing = prerequisites_missing(caregiver_ids=[caregiver.pk], course=course).get(caregiver.pk, [])
    return {
        "enrollment": enrollment,
        "is_caregiver": caregiver is not None,
        "lessons": [(lesson, lesson.id in done) for lesson in lessons],
        "lessons_done": sum(1 for lesson in lessons if lesson.id in done),
        "lessons_total": len(lessons),
        "prerequisites_missing": missing,
        "next_lesson": next((lesson for lesson in lessons if lesson.id not in done), None),
    }


def lesson_navigation(*, lesson: LessonPage, enrollment: Enrollment | None, visit=None) -> dict:

    course = lesson.course
    siblings = list(course.lessons())
    position = next((i for i, sibling in enumerate(siblings) if sibling.id == lesson.id), 0)
    is_completed = lesson.id in completed_lesson_ids(enrollment=enrollment)
    settings = TrainingSettings.load()
    return {
        "course": course,
        "enrollment": enrollment,
        "is_completed": is_completed,
        "previous_lesson": siblings[position - 1] if position > 0 else None,
        "next_lesson": siblings[position + 1] if position + 1 < len(siblings) else None,
        "position": position + 1,
        "lessons_total": len(siblings),
        "minimum_minutes": -(-settings.lesson_minimum_seconds(lesson) // 60),
        "seconds_remaining": 0
        if is_completed or enrollment is None
        else lesson_seconds_remaining(visit=visit, lesson=lesson, settings=settings),
    }


# --- Hours and "my learning" ------------------------------------------------------------------------------


def caregiver_hours_total(*, caregiver: CaregiverProfile, since=None) -> Decimal:
    entries = TrainingHoursEntry.objects.filter(caregiver=caregiver)
    if since is not None:
        entries = entries.filter(earned_on__gte=since)
    return entries.aggregate(total=Sum("hours"))["total"] or Decimal("0")


def my_learning(*, caregiver: CaregiverProfile) -> dict:
    """Everything the caregiver's "my learning" page shows, in a fixed number of queries."""
    enrollments = list(
        Enrollment.objects.filter(caregiver=caregiver)
        .select_related("course", "batch")
        .annotate(lessons_done=Count("lesson_completions", distinct=True))
        .order_by("completed_at", "-enrolled_at")
    )
    course_paths = {enrollment.course.path for enrollment in enrollments}
    lessons_by_course: dict[str, list[LessonPage]] = {}
    if course_paths:
        path_filter = Q()
        for path in course_paths:
            path_filter |= Q(path__startswith=path, depth=len(path) // LessonPage.steplen + 1)
        for lesson in (
            LessonPage.objects.live()
            .filter(path_filter)
            .order_by("path")
            .only("id", "title", "path", "url_path", "minutes")
        ):
            lessons_by_course.setdefault(lesson.path[: -LessonPage.steplen], []).append(lesson)
    done = set(LessonCompletion.objects.filter(enrollment__caregiver=caregiver).values_list("lesson_id", flat=True))
    for enrollment in enrollments:
        lessons = lessons_by_course.get(enrollment.course.path, [])
        enrollment.lessons_total = len(lessons)
        enrollment.percent = (
            round(100 * enrollment.lessons_done / enrollment.lessons_total) if enrollment.lessons_total else 0
        )
        enrollment.next_lesson = next((lesson for lesson in lessons if lesson.id not in done), None)

    today = timezone.localdate()
    year_start = today.replace(month=1, day=1)
    hours = TrainingHoursEntry.objects.filter(caregiver=caregiver).aggregate(
        total=Sum("hours"), this_year=Sum("hours", filter=Q(earned_on__gte=year_start))
    )
    by_source = dict(
        TrainingHoursEntry.objects.filter(caregiver=caregiver, earned_on__gte=year_start)
        .values_list("source")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    upcoming_sessions = list(
        BatchSession.objects.filter(batch__members__caregiver=caregiver, ends_at__gte=timezone.now())
        .select_related("batch")
        .order_by("starts_at")[:5]
    )
    current = [enrollment for enrollment in enrollments if enrollment.completed_at is None]
    return {
        "enrollments": enrollments,
        "current_enrollments": current,
        "completed_enrollments": [enrollment for enrollment in enrollments if enrollment.completed_at is not None],
        "next_steps": [enrollment for enrollment in current if enrollment.next_lesson is not None][:3],
        "upcoming_sessions": upcoming_sessions,
        "hours_total": hours["total"] or Decimal("0"),
        "hours_this_year": hours["this_year"] or Decimal("0"),
        "hours_by_source": [
            (label, by_source[value]) for value, label in TrainingHoursEntry.Source.choices if value in by_source
        ],
    }


# --- Batches ----------------------------------------------------------------------------------------------


def batch_user_can_manage(*, user, batch: TrainingBatch) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_administrator:
        return True
    return user.role == Role.TRAINING_BODY and user.training_body_id == batch.training_body_id


def batches_for_user(user) -> QuerySet:
    """The batches the user may see and manage: administrators all, a training body its own, others none."""
    batches = TrainingBatch.objects.select_related("training_body", "course")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return batches.none()
    if user.is_administrator:
        return batches
    if user.role == Role.TRAINING_BODY and user.training_body_id:
        return batches.filter(training_body_id=user.training_body_id)
    return batches.none()


def courses_for_training_body(training_body_id: int | None) -> QuerySet:
    index = CourseIndexPage.objects.filter(training_body_id=training_body_id).first()
    if index is None:
        return CoursePage.objects.none()
    return CoursePage.objects.descendant_of(index).order_by("title")


def batch_roster(*, batch: TrainingBatch) -> list[BatchMember]:
    attended = (
        SessionAttendance.objects.filter(session__batch=batch, caregiver=OuterRef("caregiver"))
        .order_by()
        .values("caregiver")
        .annotate(n=Count("pk"))
        .values("n")
    )
    completed = Enrollment.objects.filter(
        course_id=batch.course_id, caregiver=OuterRef("caregiver"), completed_at__isnull=False
    )
    return list(
        BatchMember.objects.filter(batch=batch)
        .select_related("caregiver__user", "caregiver__institution")
        .annotate(
            sessions_attended=Coalesce(Subquery(attended, output_field=IntegerField()), Value(0)),
            course_completed=Exists(completed),
        )
        .order_by("caregiver__user__name", "pk")
    )


# --- Coverage reports -------------------------------------------------------------------------------------


def required_course_ids() -> list[int]:
    return list(TrainingSettings.load().required_courses.live().values_list("pk", flat=True))


# Two ways to count, for two shapes of page. A page of institutions in name order needs counts for its 50 rows
# only: a correlated count per row, a few index lookups per caregiver. A page ordered by the share, or a page of
# counties, needs every caregiver anyway: one pass that joins caregivers to the set of trained ones (hashed once).


def trained_caregiver_ids(required_ids: list[int]) -> QuerySet:
    """Caregivers who have completed every required course, as a subquery (one row per caregiver)."""
    return (
        Enrollment.objects.filter(course_id__in=required_ids, completed_at__isnull=False)
        .order_by()
        .values("caregiver_id")
        .annotate(courses=Count("course_id"))
        .filter(courses=len(required_ids))
        .values("caregiver_id")
    )


def _share(total: str, trained: str) -> Case:
    # NULL for a row without caregivers, so that it sorts after every real share.
    return Case(
        When(**{total: 0}, then=Value(None)),
        default=F(trained) * 1.0 / F(total),
        output_field=FloatField(),
    )


def _counted_in_one_pass(queryset: QuerySet, caregivers: str, required_ids: list[int], with_share: bool) -> QuerySet:
    trained = (
        Count(caregivers, filter=Q(**{f"{caregivers}__in": trained_caregiver_ids(required_ids)}))
        if required_ids
        else Value(0)
    )
    queryset = queryset.annotate(caregivers_total=Count(caregivers), caregivers_trained=trained)
    # Only when the page is ordered by it: the database evaluates the trained set once more for the share.
    return queryset.annotate(share=_share("caregivers_total", "caregivers_trained")) if with_share else queryset


def _counted_per_row(queryset: QuerySet, required_ids: list[int]) -> QuerySet:
    caregivers = CaregiverProfile.objects.filter(institution=OuterRef("pk")).order_by().values("institution")
    completed = (
        Enrollment.objects.filter(caregiver=OuterRef("pk"), course_id__in=required_ids, completed_at__isnull=False)
        .order_by()
        .values("caregiver")
        .annotate(n=Count("pk"))
        .values("n")
    )
    trained = caregivers.alias(completed=Subquery(completed, output_field=IntegerField())).filter(
        completed=len(required_ids)
    )

    def count(rows):
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))

    return queryset.annotate(
        caregivers_total=count(caregivers),
        caregivers_trained=count(trained) if required_ids else Value(0),
    )


def coverage_by_institution(
    *, required_ids: list[int], order_by_share: bool = False, all_rows: bool = False
) -> QuerySet:
    """Institutions with `caregivers_total`, `caregivers_trained` and, when ordered by it, `share`.

    `all_rows` (an export) counts in one pass rather than row by row.
    """
    institutions = Institution.objects.select_related("county")
    if order_by_share or all_rows:
        return _counted_in_one_pass(institutions, "caregivers", required_ids, with_share=order_by_share)
    return _counted_per_row(institutions, required_ids)


def coverage_by_county(*, required_ids: list[int], order_by_share: bool = False) -> QuerySet:
    return _counted_in_one_pass(
        County.objects.all(), "institutions__caregivers", required_ids, with_share=order_by_share
    )


def institution_counts(county_ids) -> dict[int, int]:
    return dict(
        Institution.objects.filter(county_id__in=county_ids)
        .order_by()
        .values("county_id")
        .annotate(n=Count("pk"))
        .values_list("county_id", "n")
    )


def _live_citations(field: str) -> tuple[Subquery, Prefetch]:
    citations = CourseCitation.objects.filter(course__live=True)
    count = Coalesce(
        Subquery(
            citations.filter(**{field: OuterRef("pk")})
            .order_by()
            .values(field)
            .annotate(n=Count("course", distinct=True))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    prefetch = Prefetch(
        "course_citations",
        queryset=citations.select_related("course").order_by("course__title"),
        to_attr="live_citations",
    )
    return count, prefetch


def clause_coverage() -> QuerySet:
    from content.models import Clause

    count, prefetch = _live_citations("clause")
    return (
        Clause.objects.filter(live=True, standard__live=True)
        .select_related("standard")
        .annotate(live_courses=count)
        .prefetch_related(prefetch)
    )


def service_item_coverage() -> QuerySet:
    from content.models import ServiceItem

    count, prefetch = _live_citations("service_item")
    return ServiceItem.objects.filter(live=True).annotate(live_courses=count).prefetch_related(prefetch)
