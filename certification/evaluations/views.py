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

from ..practicals.selectors import practical_latest
from ..rules.eligibility import levels_from_snapshot, rule_set_current
from . import selectors, services
from .models import Evaluation


def assessor_required(request) -> None:
    if not request.user.has_role(Role.ASSESSOR):
        raise PermissionDenied(_("This page is for assessors."))


@login_required
def assessor_home(request):
    assessor_required(request)
    return render(
        request,
        "certification/assessor_home.html",
        {
            "assigned": selectors.assessor_queue(assessor=request.user)[:100],
            "to_review": selectors.review_queue(reviewer=request.user)[:100],
        },
    )


class EligibilityCheckForm(forms.Form):
    """The score an assessor types to see which level it would give, before proposing one."""

    practical_score = forms.IntegerField(label=gettext_lazy("Practical assessment score"), min_value=0, max_value=100)


class ProposalForm(forms.Form):
    practical_score = forms.IntegerField(label=gettext_lazy("Practical assessment score"), min_value=0, max_value=100)
    level = forms.TypedChoiceField(
        label=gettext_lazy("Star level proposed"),
        coerce=int,
        choices=[(0, gettext_lazy("No star level"))] + [(n, f"{n} ★") for n in range(1, 6)],
    )
    reason = forms.CharField(label=gettext_lazy("Reason for a lower level"), required=False, widget=forms.Textarea)
    observations = forms.CharField(label=gettext_lazy("Assessor's observations"), required=False, widget=forms.Textarea)


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_propose(request, evaluation_id: int):
    assessor_required(request)
    evaluation = get_object_or_404(
        Evaluation.objects.select_related("caregiver__user", "caregiver__institution", "round"),
        pk=evaluation_id,
        assessor=request.user,
        status__in=[Evaluation.Status.ASSIGNED, Evaluation.Status.RETURNED],
    )
    caregiver = evaluation.caregiver
    conflict = assessor_conflict(assessor=request.user, caregiver=caregiver)
    if conflict:
        raise PermissionDenied(conflict)
    rule_set = rule_set_current()
    # The latest practical assessment fills the score in; the assessor may still type another to check it.
    practical = practical_latest(caregiver=caregiver)
    practical_score = int(practical.eligible_score) if practical else 0
    typed = request.GET.get("practical_score", "").strip()
    check_form = EligibilityCheckForm({"practical_score": typed} if typed else None)
    if check_form.is_bound and check_form.is_valid():
        practical_score = check_form.cleaned_data["practical_score"]
    initial = {"practical_score": practical_score} if practical or check_form.is_bound else {}
    form = ProposalForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        practical_score = form.cleaned_data["practical_score"]
        try:
            services.evaluation_propose(evaluation=evaluation, assessor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Proposal sent for review."))
            return redirect("certification:assessor_home")
    eligibility = (
        selectors.evaluation_eligibility(evaluation=evaluation, practical_score=practical_score, rule_set=rule_set)
        if rule_set
        else None
    )
    if rule_set is None:
        form.add_error(None, _("No star-level rule set is in force."))
    return render(
        request,
        "certification/evaluation_form.html",
        {
            "evaluation": evaluation,
            "caregiver": caregiver,
            "national_id": caregiver.national_id_masked,
            "rule_set": rule_set,
            "eligibility": eligibility,
            "practical_score": practical_score,
            "practical": practical,
            "check_form": check_form,
            "form": form,
        },
    )


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea,
        help_text=gettext_lazy("Required when the proposal goes back to the assessor."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_review(request, evaluation_id: int):
    evaluation = get_object_or_404(
        Evaluation.objects.select_related("caregiver__user", "caregiver__institution", "assessor", "rule_set"),
        pk=evaluation_id,
        status=Evaluation.Status.PROPOSED,
    )
    conflict = services.reviewer_conflict(reviewer=request.user, evaluation=evaluation)
    if conflict:
        raise PermissionDenied(conflict)
    form = ReviewForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            if request.POST.get("action") == "return":
                services.evaluation_return(evaluation=evaluation, reviewer=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("The proposal went back to the assessor."))
            else:
                services.evaluation_confirm(
                    evaluation=evaluation, reviewer=request.user, note=form.cleaned_data["note"]
                )
                messages.success(request, _("Decision made. The certificate is being issued."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("certification:assessor_home")
    return render(
        request,
        "certification/evaluation_review.html",
        {
            "evaluation": evaluation,
            "snapshot_levels": levels_from_snapshot(evaluation.criteria_snapshot),
            "now": selectors.evaluation_eligibility(evaluation=evaluation),
            "form": form,
        },
    )
