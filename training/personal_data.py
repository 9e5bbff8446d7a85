"""What training holds about a caregiver, for their own-data download (see accounts.personal_data)."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from accounts.personal_data import PersonalDataPart, PersonalDataSection, personal_data_record, personal_data_register

from .models import BatchMember, Enrollment, LessonCompletion, LessonVisit, SessionAttendance, TrainingHoursEntry


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
    ],
    staff_only={
        "training.BatchMember.added_by": _("Who put a caregiver on a roster: the training body's staff."),
        "training.SessionAttendance.recorded_by": _("Who kept the register: the training body's staff."),
    },
)
