from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile

from .models import CoursePage, Enrollment, LessonCompletion, LessonPage, TrainingHoursEntry


def enrollment_create(*, caregiver: CaregiverProfile, course: CoursePage) -> Enrollment:
    """Enrol the caregiver; enrolling twice returns the existing enrolment."""
    if not course.live:
        raise ValidationError(_("This course is not open for enrolment."))
    try:
        with transaction.atomic():
            enrollment, _created = Enrollment.objects.get_or_create(caregiver=caregiver, course=course)
    except IntegrityError:
        # Two requests raced past get_or_create; the unique constraint kept one row.
        enrollment = Enrollment.objects.get(caregiver=caregiver, course=course)
    return enrollment


@transaction.atomic
def lesson_complete(*, caregiver: CaregiverProfile, lesson: LessonPage) -> LessonCompletion:
    """Record the lesson as studied, credit its hours once, and complete the course after its last lesson."""
    course = lesson.get_parent().specific
    enrollment = Enrollment.objects.select_for_update().filter(caregiver=caregiver, course=course).first()
    if enrollment is None:
        raise PermissionDenied(_("Enrol in the course before studying its lessons."))
    completion, created = LessonCompletion.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    if created:
        TrainingHoursEntry.objects.create(
            caregiver=caregiver,
            hours=lesson.hours,
            source=TrainingHoursEntry.Source.LESSON,
            lesson_completion=completion,
            note=f"{course.title} · {lesson.title}",
            earned_on=timezone.localdate(),
        )
    if enrollment.completed_at is None:
        lesson_ids = set(course.lessons().values_list("id", flat=True))
        done_ids = set(enrollment.lesson_completions.values_list("lesson_id", flat=True))
        if lesson_ids <= done_ids:
            enrollment.completed_at = timezone.now()
            enrollment.save(update_fields=["completed_at"])
    return completion
