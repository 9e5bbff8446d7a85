"""What training holds about a caregiver, for their own-data download (see accounts.personal_data)."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from accounts.personal_data import (
    PersonalDataPart,
    PersonalDataSection,
    personal_data_record,
    personal_data_register,
    personal_data_value,
)

from .models import (
    BatchMember,
    Enrollment,
    LessonCompletion,
    LessonVisit,
    SessionAttendance,
    TrainingBatch,
    TrainingHoursEntry,
)


def _enrollments(caregiver) -> PersonalDataPart:
    enrollments = list(
        Enrollment.objects.filter(caregiver=caregiver)
        .select_related("course", "batch")
        .prefetch_related(
            Prefetch("lesson_visits", LessonVisit.objects.select_related("lesson").order_by("opened_at", "pk")),
            Prefetch(
                "lesson_completions", LessonCompletion.objects.select_related("lesson").order_by("completed_at", "pk")
            ),
        )
        .order_by("enrolled_at", "pk")
    )
    records = []
    for enrollment in enrollments:
        completions = enrollment.lesson_completions.all()
        completed = {completion.lesson_id: completion.completed_at for completion in completions}
        lessons = [
            personal_data_record(
                visit, "opened_at", lesson=visit.lesson.title, completed_at=completed.pop(visit.lesson_id, None)
            )
            for visit in enrollment.lesson_visits.all()
        ]
        # A lesson marked as studied before visits were recorded has a completion without a visit.
        lessons += [
            personal_data_record(completion, "completed_at", lesson=completion.lesson.title, opened_at=None)
            for completion in completions
            if completion.lesson_id in completed
        ]
        records.append(
            personal_data_record(
                enrollment,
                "source",
                "enrolled_at",
                "completed_at",
                course=enrollment.course.title,
                batch=enrollment.batch.name if enrollment.batch else None,
                lessons=lessons,
            )
        )
    return PersonalDataPart(records=records, about=enrollments)


def _hours(caregiver) -> PersonalDataPart:
    entries = list(TrainingHoursEntry.objects.filter(caregiver=caregiver).order_by("earned_on", "pk"))
    return PersonalDataPart(
        records=[personal_data_record(entry, "earned_on", "hours", "source", "note") for entry in entries],
        about=entries,
    )


def _batches(caregiver) -> PersonalDataPart:
    memberships = list(
        BatchMember.objects.filter(caregiver=caregiver)
        .select_related("batch__training_body", "batch__course")
        .order_by("added_at", "pk")
    )
    attendances = list(
        SessionAttendance.objects.filter(caregiver=caregiver)
        .select_related("session__batch")
        .order_by("session__starts_at", "pk")
    )
    # A caregiver on a register is on the roster: the roster line cannot be removed while they attended.
    records = []
    for membership in memberships:
        batch = membership.batch
        records.append(
            personal_data_record(
                membership,
                "added_at",
                batch=batch.name,
                course=batch.course.title,
                training_body=batch.training_body.name,
                place=batch.place,
                starts_on=batch.starts_on,
                ends_on=batch.ends_on,
                sessions_attended=[
                    personal_data_record(
                        attendance,
                        "recorded_at",
                        topic=attendance.session.topic,
                        starts_at=attendance.session.starts_at,
                        ends_at=attendance.session.ends_at,
                        hours=attendance.session.hours,
                    )
                    for attendance in attendances
                    if attendance.session.batch_id == batch.pk
                ],
            )
        )
    return PersonalDataPart(records=records, about=[*memberships, *attendances])


ROSTER_ACTIONS = ("carestar.batch.roster_add", "carestar.batch.roster_remove", "carestar.batch.attendance")


def _naming(entry, caregiver_id: int) -> str | None:
    """What a batch's log entry says of this one caregiver, or None when it does not name them."""
    data = entry.data or {}
    if entry.action == "carestar.batch.roster_add" and caregiver_id in data.get("caregivers", []):
        return gettext("Put on the roster")
    if entry.action == "carestar.batch.roster_remove" and data.get("caregiver") == caregiver_id:
        return gettext("Taken off the roster")
    if entry.action == "carestar.batch.attendance":
        if caregiver_id in data.get("added", []):
            return gettext("Recorded as present at a session")
        if caregiver_id in data.get("removed", []):
            return gettext("Recorded as absent from a session")
    return None


def _roster_changes(caregiver) -> PersonalDataPart:
    """A batch's log is shared by its whole roster: only what each entry says of this caregiver, never the others.
    A roster line removed leaves no row behind, so its entry is the only record of it."""
    batch_type = ContentType.objects.get_for_model(TrainingBatch)
    entries = ModelLogEntry.objects.filter(content_type=batch_type, action__in=ROSTER_ACTIONS).select_related("user")
    left = set(
        entries.filter(action="carestar.batch.roster_remove", data__caregiver=caregiver.pk).values_list(
            "object_id", flat=True
        )
    )
    batches = {str(pk) for pk in BatchMember.objects.filter(caregiver=caregiver).values_list("batch_id", flat=True)}
    records = []
    for entry in entries.filter(object_id__in=sorted(batches | left)).order_by("timestamp", "pk"):
        change = _naming(entry, caregiver.pk)
        if change is not None:
            records.append(
                {
                    "timestamp": personal_data_value(entry.timestamp),
                    "batch": entry.label,
                    "change": change,
                    "action": str(log_registry.get_action_label(entry.action)),
                    "by": entry.user_display_name,
                }
            )
    return PersonalDataPart(records=records)


personal_data_register(
    sections=[
        PersonalDataSection(
            key="enrolments",
            title=_("Course enrolments and lessons studied"),
            covers=("training.Enrollment.caregiver",),
            collect=_enrollments,
        ),
        PersonalDataSection(
            key="training_hours",
            title=_("Training hours ledger"),
            covers=("training.TrainingHoursEntry.caregiver",),
            collect=_hours,
        ),
        PersonalDataSection(
            key="training_batches",
            title=_("Training batches and attendance"),
            covers=("training.BatchMember.caregiver", "training.SessionAttendance.caregiver"),
            collect=_batches,
        ),
        PersonalDataSection(
            key="training_roster_changes",
            title=_("Roster and register changes naming you"),
            covers=(),
            collect=_roster_changes,
        ),
    ],
    staff_only={
        "training.BatchMember.added_by": _("Who put a caregiver on a roster: the training body's staff."),
        "training.SessionAttendance.recorded_by": _("Who kept the register: the training body's staff."),
    },
)
