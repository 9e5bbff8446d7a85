"""Writes for training: enrolment, lesson study, the hours ledger, batches and their registers, and the
citation index behind the coverage report. Each function owns its transaction."""

import math
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.log_actions import log

from accounts.models import CaregiverProfile

from .models import (
    BatchMember,
    BatchSession,
    CourseCitation,
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
from .selectors import batch_user_can_manage, lesson_seconds_remaining, prerequisites_missing

# --- Enrolment and study ----------------------------------------------------------------------------------


def enrollment_create(
    *, caregiver: CaregiverProfile, course: CoursePage, batch: TrainingBatch | None = None
) -> Enrollment:
    """Enrol the caregiver; enrolling twice returns the existing enrolment."""
    if not course.live:
        raise ValidationError(_("This course is not open for enrolment."))
    existing = Enrollment.objects.filter(caregiver=caregiver, course=course).first()
    if existing is not None:
        return existing
    missing = prerequisites_missing(caregiver_ids=[caregiver.pk], course=course).get(caregiver.pk)
    if missing:
        raise ValidationError(
            _("Complete %(courses)s before enrolling in this course.") % {"courses": "、".join(missing)}
        )
    source = Enrollment.Source.BATCH if batch is not None else Enrollment.Source.SELF
    try:
        with transaction.atomic():
            enrollment, _created = Enrollment.objects.get_or_create(
                caregiver=caregiver, course=course, defaults={"source": source, "batch": batch}
            )
    except IntegrityError:
        # Two requests raced past get_or_create; the unique constraint kept one row.
        enrollment = Enrollment.objects.get(caregiver=caregiver, course=course)
    return enrollment


def lesson_visit_record(*, enrollment: Enrollment, lesson: LessonPage) -> LessonVisit:
    """Remember when the learner first opened the lesson; later visits keep the first time."""
    visit = LessonVisit.objects.filter(enrollment=enrollment, lesson=lesson).first()
    if visit is not None:
        return visit
    try:
        with transaction.atomic():
            visit, _created = LessonVisit.objects.get_or_create(
                enrollment=enrollment, lesson=lesson, defaults={"opened_at": timezone.now()}
            )
    except IntegrityError:
        visit = LessonVisit.objects.get(enrollment=enrollment, lesson=lesson)
    return visit


@transaction.atomic
def lesson_complete(*, caregiver: CaregiverProfile, lesson: LessonPage) -> LessonCompletion:
    """Record the lesson as studied, credit its hours once, and complete the course after its last lesson.

    Refused until the learner has had the lesson open for the minimum time the training settings require.
    """
    course = lesson.course
    enrollment = Enrollment.objects.select_for_update().filter(caregiver=caregiver, course=course).first()
    if enrollment is None:
        raise PermissionDenied(_("Enrol in the course before studying its lessons."))
    completion = LessonCompletion.objects.filter(enrollment=enrollment, lesson=lesson).first()
    if completion is not None:
        return completion

    visit = LessonVisit.objects.filter(enrollment=enrollment, lesson=lesson).first()
    settings = TrainingSettings.load()
    remaining = lesson_seconds_remaining(visit=visit, lesson=lesson, settings=settings)
    if remaining:
        if visit is None:
            raise ValidationError(_("Open the lesson and study it before marking it as studied."))
        minutes = math.ceil(remaining / 60)
        raise ValidationError(
            ngettext(
                "This lesson needs %(minimum)s minutes of study; you can mark it as studied in about %(minutes)s "
                "minute.",
                "This lesson needs %(minimum)s minutes of study; you can mark it as studied in about %(minutes)s "
                "minutes.",
                minutes,
            )
            % {"minimum": math.ceil(settings.lesson_minimum_seconds(lesson) / 60), "minutes": minutes}
        )

    completion = LessonCompletion.objects.create(enrollment=enrollment, lesson=lesson)
    TrainingHoursEntry.objects.create(
        caregiver=caregiver,
        hours=lesson.hours,
        source=TrainingHoursEntry.Source.LESSON,
        lesson_completion=completion,
        note=f"{course.title} · {lesson.title}"[:200],
        earned_on=timezone.localdate(),
    )
    if enrollment.completed_at is None:
        lesson_ids = set(course.lessons().values_list("id", flat=True))
        done_ids = set(enrollment.lesson_completions.values_list("lesson_id", flat=True))
        if lesson_ids <= done_ids:
            enrollment.completed_at = timezone.now()
            enrollment.save(update_fields=["completed_at"])
    return completion


# --- Training batches -------------------------------------------------------------------------------------


def _require_manager(*, user, batch: TrainingBatch) -> None:
    if not batch_user_can_manage(user=user, batch=batch):
        raise PermissionDenied(_("Only the batch's own training body may change it."))


@transaction.atomic
def batch_roster_add(*, batch: TrainingBatch, caregivers: Iterable[CaregiverProfile], user) -> dict:
    """Put caregivers on the roster and enrol them in the batch's course; those already there stay as they are.

    All or nothing: if one caregiver cannot join (a missing prerequisite), no one is added.
    """
    _require_manager(user=user, batch=batch)
    if not batch.course.live:
        raise ValidationError(_("The batch's course is not published, so no one can be enrolled in it."))
    caregivers = list(caregivers)
    on_roster = set(
        BatchMember.objects.filter(batch=batch, caregiver__in=caregivers).values_list("caregiver_id", flat=True)
    )
    newcomers = [caregiver for caregiver in caregivers if caregiver.pk not in on_roster]
    missing = prerequisites_missing(caregiver_ids=[c.pk for c in newcomers], course=batch.course)
    if missing:
        blocked = [c for c in newcomers if c.pk in missing]
        raise ValidationError(
            [
                _("%(name)s has not completed %(courses)s.")
                % {"name": caregiver.name, "courses": "、".join(missing[caregiver.pk])}
                for caregiver in blocked
            ]
        )
    if batch.capacity is not None:
        current = BatchMember.objects.filter(batch=batch).count()
        if current + len(newcomers) > batch.capacity:
            raise ValidationError(
                _("The batch has %(capacity)s places and %(current)s are taken; %(count)s more do not fit.")
                % {"capacity": batch.capacity, "current": current, "count": len(newcomers)}
            )
    BatchMember.objects.bulk_create(
        [BatchMember(batch=batch, caregiver=caregiver, added_by=user) for caregiver in newcomers]
    )
    enrolled = set(
        Enrollment.objects.filter(course=batch.course, caregiver__in=newcomers).values_list("caregiver_id", flat=True)
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(caregiver=caregiver, course=batch.course, source=Enrollment.Source.BATCH, batch=batch)
            for caregiver in newcomers
            if caregiver.pk not in enrolled
        ]
    )
    if newcomers:
        log(
            batch,
            "carestar.batch.roster_add",
            user=user,
            data={"caregivers": [caregiver.pk for caregiver in newcomers]},
        )
    return {"added": len(newcomers), "already": len(caregivers) - len(newcomers)}


@transaction.atomic
def batch_roster_remove(*, batch: TrainingBatch, caregiver: CaregiverProfile, user) -> None:
    _require_manager(user=user, batch=batch)
    if SessionAttendance.objects.filter(session__batch=batch, caregiver=caregiver).exists():
        raise ValidationError(
            _("%(name)s has attended sessions of this batch; correct the register first.") % {"name": caregiver.name}
        )
    deleted, _detail = BatchMember.objects.filter(batch=batch, caregiver=caregiver).delete()
    if deleted:
        log(batch, "carestar.batch.roster_remove", user=user, data={"caregiver": caregiver.pk})


@transaction.atomic
def session_attendance_record(*, session: BatchSession, caregiver_ids: Iterable[int], user) -> dict:
    """Make the session's register exactly `caregiver_ids`: each attendance earns the session's hours, each
    removed one takes its hours away. A caregiver who has attended every session has completed the course."""
    batch = session.batch
    _require_manager(user=user, batch=batch)
    if session.starts_at > timezone.now():
        raise ValidationError(_("The session has not started yet; record attendance once it has taken place."))
    wanted = set(caregiver_ids)
    roster = set(BatchMember.objects.filter(batch=batch).values_list("caregiver_id", flat=True))
    strangers = wanted - roster
    if strangers:
        raise ValidationError(_("Only caregivers on the batch's roster can attend its sessions."))
    present = set(SessionAttendance.objects.filter(session=session).values_list("caregiver_id", flat=True))
    to_add, to_remove = wanted - present, present - wanted

    # Deleting an attendance deletes its ledger line with it (the foreign key cascades).
    SessionAttendance.objects.filter(session=session, caregiver_id__in=to_remove).delete()
    attendances = SessionAttendance.objects.bulk_create(
        [SessionAttendance(session=session, caregiver_id=caregiver_id, recorded_by=user) for caregiver_id in to_add]
    )
    if any(attendance.pk is None for attendance in attendances):
        # Backends that do not return primary keys from bulk inserts: read them back in one query.
        attendances = list(SessionAttendance.objects.filter(session=session, caregiver_id__in=to_add))
    earned_on = timezone.localdate(session.starts_at)
    TrainingHoursEntry.objects.bulk_create(
        [
            TrainingHoursEntry(
                caregiver_id=attendance.caregiver_id,
                hours=session.hours,
                source=TrainingHoursEntry.Source.BATCH_SESSION,
                attendance=attendance,
                note=f"{batch.name} · {session.topic}"[:200],
                earned_on=earned_on,
            )
            for attendance in attendances
        ]
    )
    _batch_completions_update(batch=batch, caregiver_ids=to_add)
    if to_add or to_remove:
        log(
            batch,
            "carestar.batch.attendance",
            user=user,
            data={"session": session.pk, "added": sorted(to_add), "removed": sorted(to_remove)},
        )
    return {"added": len(to_add), "removed": len(to_remove)}


def _batch_completions_update(*, batch: TrainingBatch, caregiver_ids: set[int]) -> None:
    if not caregiver_ids:
        return
    sessions = BatchSession.objects.filter(batch=batch).count()
    complete = (
        SessionAttendance.objects.filter(session__batch=batch, caregiver_id__in=caregiver_ids)
        .values("caregiver_id")
        .annotate(attended=Count("session", distinct=True))
        .filter(attended=sessions)
        .values("caregiver_id")
    )
    Enrollment.objects.filter(course=batch.course, caregiver_id__in=complete, completed_at__isnull=True).update(
        completed_at=timezone.now()
    )


# --- The citation index behind the coverage report ---------------------------------------------------------


def _cited_ids(lessons) -> tuple[set[int], set[int]]:
    clause_ids, item_ids = set(), set()
    for lesson in lessons:
        for block in lesson.body.raw_data:
            value = block.get("value") or {}
            if block["type"] == "clause_citation" and value.get("clause"):
                clause_ids.add(int(value["clause"]))
            elif block["type"] == "procedure" and value.get("service_item"):
                item_ids.add(int(value["service_item"]))
    return clause_ids, item_ids


@transaction.atomic
def course_citations_refresh(*, course_id: int) -> None:
    """Rewrite what the course cites from its published state: nothing while it is not live."""
    CourseCitation.objects.filter(course_id=course_id).delete()
    course = CoursePage.objects.live().filter(pk=course_id).first()
    if course is None:
        return
    clause_ids, item_ids = _cited_ids(LessonPage.objects.child_of(course).live().only("body"))
    item_ids |= set(course.service_items.values_list("pk", flat=True))
    from content.models import Clause, ServiceItem

    # Citations may point at library entries deleted since the lesson was written: keep only real ones.
    clause_ids &= set(Clause.objects.filter(pk__in=clause_ids).values_list("pk", flat=True))
    item_ids &= set(ServiceItem.objects.filter(pk__in=item_ids).values_list("pk", flat=True))
    CourseCitation.objects.bulk_create(
        [CourseCitation(course_id=course_id, clause_id=pk) for pk in sorted(clause_ids)]
        + [CourseCitation(course_id=course_id, service_item_id=pk) for pk in sorted(item_ids)]
    )


def course_citations_rebuild() -> int:
    """Rebuild the whole index (after a restore, say). Returns the number of courses indexed."""
    course_ids = list(CoursePage.objects.values_list("pk", flat=True))
    CourseCitation.objects.exclude(course_id__in=course_ids).delete()
    for course_id in course_ids:
        course_citations_refresh(course_id=course_id)
    return len(course_ids)
