from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certification.models import Certificate, Exam

from . import selectors, services
from .models import CoursePage, LessonPage


def _caregiver(request):
    caregiver = selectors.caregiver_for(request.user)
    if caregiver is None:
        raise PermissionDenied(_("This page is for caregivers."))
    return caregiver


@login_required
@require_POST
def enrol(request, course_id: int):
    caregiver = _caregiver(request)
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    try:
        services.enrollment_create(caregiver=caregiver, course=course)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("You are enrolled in %(course)s.") % {"course": course.title})
    return redirect(course.url)


@login_required
@require_POST
def lesson_complete(request, lesson_id: int):
    caregiver = _caregiver(request)
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    services.lesson_complete(caregiver=caregiver, lesson=lesson)
    navigation = selectors.lesson_navigation(lesson=lesson, user=request.user)
    if navigation["next_lesson"] is not None:
        return redirect(navigation["next_lesson"].url)
    messages.success(request, _("Lesson completed."))
    return redirect(navigation["course"].url)


@login_required
def my_learning(request):
    caregiver = _caregiver(request)
    context = selectors.my_learning(caregiver=caregiver)
    completed_course_ids = [e.course_id for e in context["enrollments"] if e.completed_at]
    context.update(
        {
            "caregiver": caregiver,
            "exams": Exam.objects.filter(is_open=True, course_id__in=completed_course_ids).order_by("title"),
            "certificates": Certificate.objects.filter(caregiver=caregiver).order_by("-issued_on", "-id"),
        }
    )
    return render(request, "training/my_learning.html", context)
