"""The assessor's phone pages: candidates assigned to them, and the checklist to score one."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.conflicts import assessor_conflict
from accounts.models import Role

from . import selectors, services
from .models import PracticalAssessment


def assessor_required(request) -> None:
    if not request.user.has_role(Role.ASSESSOR):
        raise PermissionDenied(_("This page is for assessors."))


@login_required
def assessment_list(request):
    assessor_required(request)
    return render(
        request,
        "certification/practical_list.html",
        {
            "assigned": selectors.assessments_for_assessor(assessor=request.user),
            "scored": selectors.assessments_for_assessor(
                assessor=request.user, status=PracticalAssessment.Status.SCORED
            ).order_by("-scored_at")[:20],
        },
    )


class ScoreForm(forms.Form):
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = steps
        for step in steps:
            self.fields[f"step_{step.pk}"] = forms.TypedChoiceField(
                label=step.text,
                coerce=int,
                choices=[("", "—")] + [(value, str(value)) for value in range(step.points, -1, -1)],
            )

    def rows(self):
        return [(step, self[f"step_{step.pk}"]) for step in self.steps]

    def points(self) -> dict[int, int]:
        return {step.pk: self.cleaned_data[f"step_{step.pk}"] for step in self.steps}


@login_required
@require_http_methods(["GET", "POST"])
def assessment_score(request, assessment_id: int):
    assessor_required(request)
    # Another assessor's assignment is reported as missing: ids reveal nothing.
    assessment = get_object_or_404(
        PracticalAssessment.objects.select_related(
            "template__service_item", "caregiver__user", "caregiver__institution"
        ),
        pk=assessment_id,
        assessor=request.user,
    )
    conflict = assessor_conflict(assessor=request.user, caregiver=assessment.caregiver)
    if conflict:
        raise PermissionDenied(conflict)
    if assessment.status == PracticalAssessment.Status.SCORED:
        return render(
            request,
            "certification/practical_result.html",
            {"assessment": assessment, "step_scores": assessment.step_scores.all()},
        )
    steps = list(assessment.template.steps.order_by("sort_order", "id"))
    form = ScoreForm(request.POST or None, steps=steps)
    if form.is_bound and form.is_valid():
        try:
            assessment = services.practical_score(
                assessment=assessment, assessor=request.user, points=form.points(), notes=form.cleaned_data["notes"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Practical assessment recorded: %(score)s points.") % {"score": assessment.score},
            )
            return redirect("certification:practical_score", assessment_id=assessment.pk)
    elif form.is_bound:
        messages.error(request, _("Score every step before you record the assessment."))
    return render(
        request,
        "certification/practical_form.html",
        {"assessment": assessment, "form": form, "national_id": assessment.caregiver.national_id_masked},
    )
