from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.guards import caregiver_required
from accounts.models import TrainingBody
from content.models import ServiceItem

from . import selectors, services
from .models import STAR_LEVEL_CHOICES, CoursePage, LessonPage

COURSES_PER_PAGE = 20


class CourseFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    service_item = forms.ModelChoiceField(
        label=gettext_lazy("Service item"),
        queryset=ServiceItem.objects.filter(live=True).only("id", "code", "name"),
        required=False,
        empty_label=gettext_lazy("All service items"),
    )
    star_level = forms.TypedChoiceField(
        label=gettext_lazy("Target star level"),
        choices=[("", gettext_lazy("Any star level"))] + STAR_LEVEL_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    training_body = forms.ModelChoiceField(
        label=gettext_lazy("Training body"),
        queryset=TrainingBody.objects.filter(course_index__isnull=False).only("id", "name"),
        required=False,
        empty_label=gettext_lazy("All training bodies"),
    )


def course_list(request):
    """The public course catalogue with search and filters; bad filter values are ignored, not fatal."""
    form = CourseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    courses = selectors.course_search(
        text=(filters.get("q") or "").strip(),
        service_item_id=getattr(filters.get("service_item"), "pk", None),
        star_level=filters.get("star_level"),
        training_body_id=getattr(filters.get("training_body"), "pk", None),
    )
    page = Paginator(courses, COURSES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/course_list.html",
        {
            "form": form,
            "page_obj": page,
            "courses": selectors.course_cards(page.object_list),
            "query_string": query.urlencode(),
            "is_filtering": bool(filters and any(filters.values())),
        },
    )


@login_required
@require_POST
def enrol(request, course_id: int):
    caregiver = caregiver_required(request)
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
    caregiver = caregiver_required(request)
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    try:
        services.lesson_complete(caregiver=caregiver, lesson=lesson)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(lesson.url)
    next_lesson = lesson.course.lessons().filter(path__gt=lesson.path).first()
    if next_lesson is not None:
        return redirect(next_lesson.url)
    messages.success(request, _("Lesson completed."))
    return redirect(lesson.course.url)


@login_required
def my_learning(request):
    caregiver = caregiver_required(request)
    # The page's exams and certificates come from certification's template tags.
    context = {**selectors.my_learning(caregiver=caregiver), "caregiver": caregiver}
    return render(request, "training/my_learning.html", context)
