"""What the pages of lower apps show of certification (the caregiver's "my learning" page), without those apps
importing it."""

from django import template

from certification.certificates.models import Certificate
from certification.exams.models import Exam

register = template.Library()


@register.simple_tag
def exams_open_to(enrollments):
    """The open exams of the courses these enrolments completed."""
    completed = [enrollment.course_id for enrollment in enrollments if enrollment.completed_at]
    return list(Exam.objects.filter(is_open=True, course_id__in=completed).order_by("title"))


@register.simple_tag
def certificates_of(caregiver):
    return list(Certificate.objects.filter(caregiver=caregiver).order_by("-issued_on", "-id"))
