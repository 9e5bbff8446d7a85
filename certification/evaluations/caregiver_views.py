"""The caregiver's side of star evaluation (我的星级): level in force, eligibility, apply, withdraw, appeal."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.guards import caregiver_required
from accounts.models import CaregiverProfile

from ..rules.eligibility import caregiver_facts, levels_from_snapshot, rule_set_current, star_level_compute
from . import selectors, services
from .models import Evaluation


class ApplyForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note for the evaluation (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example, when you can attend the practical assessment."),
    )


class AppealForm(forms.Form):
    grounds = forms.CharField(
        label=gettext_lazy("Grounds of the appeal"),
        max_length=2000,
        error_messages={"required": gettext_lazy("Give the grounds of the appeal.")},
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Say which part of the decision you contest and why."),
    )


def _star_page(request, caregiver: CaregiverProfile, *, apply_form=None, appeal_form=None):
    history = selectors.caregiver_history(caregiver=caregiver)
    current = history["current"]
    rule_set = rule_set_current()
    facts = caregiver_facts(caregiver=caregiver, rule_set=rule_set) if rule_set else None
    today = timezone.localdate()
    due_soon = (
        current is not None
        and current.re_evaluation_due_on is not None
        and (current.re_evaluation_due_on - today).days <= selectors.DUE_SOON_DAYS
    )
    return render(
        request,
        "certification/my_star.html",
        {
            "caregiver": caregiver,
            "current": current,
            "current_appeal": history["current_appeal"],
            "open_evaluation": history["open"],
            "certificate": next((c for c in history["certificates"] if c.is_valid), None),
            "certificate_pending": current is not None
            and bool(current.level)
            and not any(c.evaluation_id == current.pk for c in history["certificates"]),
            "rule_set": rule_set,
            "facts": facts,
            "eligibility": star_level_compute(facts=facts, rule_set=rule_set) if rule_set else None,
            "re_evaluation_due_soon": due_soon,
            "can_appeal": selectors.appeal_possible(decision=current, today=today),
            "appeal_days_left": (current.appeal_until - today).days if current and current.appeal_until else None,
            "apply_form": apply_form or ApplyForm(),
            "appeal_form": appeal_form or AppealForm(),
            "history_count": len(history["evaluations"]),
        },
    )


@login_required
@require_GET
def my_star(request):
    return _star_page(request, caregiver_required(request))


def _error_text(error: ValidationError | PermissionDenied) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


@login_required
@require_POST
def my_star_apply(request):
    caregiver = caregiver_required(request)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _star_page(request, caregiver, apply_form=form)
    try:
        services.evaluation_apply(caregiver=caregiver, note=form.cleaned_data["note"])
    except ValidationError as error:
        if error.code != "in_progress":
            messages.error(request, _error_text(error))
        else:
            messages.error(
                request,
                _(
                    "You already have a star evaluation in progress (%(status)s): wait until it is decided, "
                    "or withdraw your application, before applying again."
                )
                % error.params,
            )
    else:
        messages.success(request, _("Your application is in. An administrator will assign you an assessor."))
    return redirect("certification:my_star")


@login_required
@require_POST
def my_star_withdraw(request, evaluation_id: int):
    caregiver = caregiver_required(request)
    evaluation = get_object_or_404(Evaluation, pk=evaluation_id, caregiver=caregiver)
    try:
        services.evaluation_withdraw(evaluation=evaluation, actor=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Your application has been withdrawn."))
    return redirect("certification:my_star")


@login_required
@require_POST
def my_star_appeal(request, evaluation_id: int):
    caregiver = caregiver_required(request)
    evaluation = get_object_or_404(Evaluation, pk=evaluation_id, caregiver=caregiver)
    form = AppealForm(request.POST)
    if not form.is_valid():
        # Only the wording can be put right: keep what was typed and show the form again.
        return _star_page(request, caregiver, appeal_form=form)
    try:
        services.appeal_file(evaluation=evaluation, user=request.user, grounds=form.cleaned_data["grounds"])
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, _("Your appeal has been filed. An administrator other than your assessor will decide it.")
        )
    return redirect("certification:my_star")


@login_required
@require_GET
def my_star_history(request):
    caregiver = caregiver_required(request)
    history = selectors.caregiver_history(caregiver=caregiver)
    # The criteria as evaluated are shown once the decision is made, not while a proposal is under review.
    decided = Evaluation.Status.DECIDED
    evaluations = [
        (evaluation, levels_from_snapshot(evaluation.criteria_snapshot) if evaluation.status == decided else [])
        for evaluation in history["evaluations"]
    ]
    return render(
        request,
        "certification/my_star_history.html",
        {"caregiver": caregiver, "history": history, "evaluations": evaluations},
    )
