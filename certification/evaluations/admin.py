"""Administrators' screens for star evaluations in the Wagtail admin.

A filtered list of evaluations, an inspect page with the criteria as evaluated, the revision chain, appeal,
certificates and audit trail, and the administrator's actions (assign an assessor, withdraw); a caregiver's
history, which institution managers may read for their own staff. Every write goes through services.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from accounts.guards import administrator_required
from accounts.models import CaregiverProfile, County, Role, User

from ..audit import AuditHistoryView, audit_trail
from ..rules.eligibility import levels_from_snapshot
from . import selectors, services
from .models import Appeal, Evaluation, EvaluationRound

# --- Evaluations -----------------------------------------------------------------------------------------


class EvaluationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"), choices=Evaluation.Status.choices, empty_label=gettext_lazy("All statuses")
    )
    source = django_filters.ChoiceFilter(
        label=gettext_lazy("Started by"), choices=Evaluation.Source.choices, empty_label=gettext_lazy("All sources")
    )
    round = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Round"), queryset=EvaluationRound.objects.all(), empty_label=gettext_lazy("All rounds")
    )
    county = django_filters.ModelChoiceFilter(
        label=gettext_lazy("County"),
        field_name="caregiver__institution__county",
        queryset=County.objects.all(),
        empty_label=gettext_lazy("All counties"),
    )

    class Meta:
        model = Evaluation
        fields = ["status", "source", "round", "county"]


def level_display(value) -> str:
    return "—" if value is None else f"{value} ★"


class EvaluationIndexView(generic.IndexView):
    filterset_class = EvaluationFilterSet

    def get_base_queryset(self):
        return Evaluation.objects.select_related("caregiver__user", "caregiver__institution", "assessor")


def _evaluation_may_change(evaluation: Evaluation) -> bool:
    return evaluation.status in (Evaluation.Status.APPLIED, Evaluation.Status.ASSIGNED, Evaluation.Status.RETURNED)


class RecordInspectView(generic.InspectView):
    """An inspect page that shows a dash, not "None", where a step has not happened yet."""

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        return "—" if value is None or value == "" else value


class EvaluationInspectView(RecordInspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(
            Evaluation.objects.select_related(
                "caregiver__user",
                "caregiver__institution",
                "assessor",
                "reviewer",
                "requested_by",
                "rule_set",
                "round",
                "revises",
            ),
            pk=self.pk,
        )

    def get_field_display_value(self, field_name, field):
        if field_name in ("level", "computed_level"):
            return level_display(getattr(self.object, field_name))
        return super().get_field_display_value(field_name, field)

    @cached_property
    def header_buttons(self):
        evaluation, buttons = self.object, []
        if self.request.user.is_administrator and _evaluation_may_change(evaluation):
            label = _("Reassign the assessor") if evaluation.assessor_id else _("Assign an assessor")
            buttons.append(
                HeaderButton(label, url=reverse("evaluation:assign", args=[evaluation.pk]), icon_name="user")
            )
        if self.request.user.is_administrator and evaluation.is_open:
            buttons.append(
                HeaderButton(_("Withdraw"), url=reverse("evaluation:withdraw", args=[evaluation.pk]), icon_name="cross")
            )
        buttons.append(
            HeaderButton(
                _("Caregiver's history"),
                url=reverse("evaluation:caregiver_history", args=[evaluation.caregiver_id]),
                icon_name="list-ul",
            )
        )
        buttons.append(
            HeaderButton(_("History"), url=reverse("evaluation:history", args=[evaluation.pk]), icon_name="history")
        )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        evaluation = self.object
        context.update(
            {
                "snapshot_levels": levels_from_snapshot(evaluation.criteria_snapshot),
                "revisions": list(evaluation.revisions.select_related("reviewer").order_by("decided_at", "pk")),
                "appeals": list(evaluation.appeals.select_related("decided_by", "result")),
                "appeal_result_of": Appeal.objects.filter(result=evaluation).select_related("evaluation").first(),
                "certificates": list(evaluation.certificates.order_by("pk")),
                "audit": audit_trail(evaluation),
            }
        )
        return context


class EvaluationViewSet(ModelViewSet):
    """Evaluations are written only by the services: read here, never edited in place (nor deleted)."""

    model = Evaluation
    icon = "tasks"
    menu_label = gettext_lazy("Star evaluations")
    index_view_class = EvaluationIndexView
    inspect_view_class = EvaluationInspectView
    history_view_class = AuditHistoryView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = []
    inspect_template_name = "certification/admin/evaluation_inspect.html"
    search_fields = ["caregiver__user__name"]
    list_display = [
        "caregiver",
        Column("institution", label=gettext_lazy("Institution"), accessor="caregiver.institution"),
        "status",
        "assessor",
        Column(
            "level",
            label=gettext_lazy("Proposed / decided level"),
            accessor=lambda e: level_display(e.level),
            sort_key="level",
        ),
        Column(
            "computed_level",
            label=gettext_lazy("Computed star level"),
            accessor=lambda e: level_display(e.computed_level) if e.rule_set_id else "—",
            sort_key="computed_level",
        ),
        "decided_at",
    ]
    inspect_view_fields = [
        "caregiver",
        "source",
        "status",
        "requested_by",
        "request_note",
        "round",
        "assessor",
        "assigned_at",
        "rule_set",
        "practical_score",
        "computed_level",
        "level",
        "reason",
        "observations",
        "proposed_at",
        "reviewer",
        "review_note",
        "decided_at",
        "appeal_until",
        "re_evaluation_due_on",
    ]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("assign/<int:pk>/", evaluation_assign, name="assign"),
            path("withdraw/<int:pk>/", evaluation_withdraw, name="withdraw"),
            path("caregiver/<int:caregiver_id>/", caregiver_history, name="caregiver_history"),
        ]


class AssessorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        profile = getattr(user, "assessor_profile", None)
        institution = profile.institution if profile is not None and profile.institution_id else None
        return _("%(name)s · %(institution)s · %(open)s open") % {
            "name": user.get_full_name(),
            "institution": institution or _("no care institution"),
            "open": user.open_evaluations,
        }


class AssignForm(forms.Form):
    def __init__(self, *args, caregiver: CaregiverProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessor"] = AssessorChoiceField(
            label=gettext_lazy("Assessor"),
            queryset=selectors.assessors_without_conflict(caregiver=caregiver),
            help_text=gettext_lazy(
                "Only assessors who may assess this caregiver are listed: never the caregiver, never staff of the "
                "caregiver's own institution. The fewest open evaluations come first."
            ),
            error_messages={
                "invalid_choice": gettext_lazy(
                    "This assessor may not assess this caregiver (their own institution's staff, or themselves)."
                )
            },
        )


def _evaluation_for_action(pk: int) -> Evaluation:
    return get_object_or_404(
        Evaluation.objects.select_related("caregiver__user", "caregiver__institution", "assessor"), pk=pk
    )


def _action_response(request, evaluation, form, title: str, button: str):
    return TemplateResponse(
        request,
        "certification/admin/evaluation_action.html",
        {
            "evaluation": evaluation,
            "form": form,
            "page_title": title,
            "button": button,
            "inspect_url": reverse("evaluation:inspect", args=[evaluation.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def evaluation_assign(request, pk: int):
    administrator_required(request)
    evaluation = _evaluation_for_action(pk)
    inspect_url = reverse("evaluation:inspect", args=[evaluation.pk])
    if not _evaluation_may_change(evaluation):
        messages.error(
            request,
            _("This evaluation is %(status)s; that step is not possible now.")
            % {"status": evaluation.get_status_display()},
        )
        return redirect(inspect_url)
    form = AssignForm(request.POST or None, caregiver=evaluation.caregiver)
    if form.is_valid():
        try:
            services.evaluation_assign(
                evaluation=evaluation, assessor=form.cleaned_data["assessor"], actor=request.user
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(
                request,
                _("%(assessor)s now assesses %(caregiver)s.")
                % {"assessor": form.cleaned_data["assessor"].get_full_name(), "caregiver": evaluation.caregiver.name},
            )
            return redirect(inspect_url)
    title = _("Reassign the assessor") if evaluation.assessor_id else _("Assign an assessor")
    return _action_response(request, evaluation, form, title, _("Assign"))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )


@require_http_methods(["GET", "POST"])
def evaluation_withdraw(request, pk: int):
    administrator_required(request)
    evaluation = _evaluation_for_action(pk)
    form = WithdrawForm(request.POST or None)
    if form.is_valid():
        try:
            services.evaluation_withdraw(evaluation=evaluation, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The evaluation was withdrawn."))
            return redirect("evaluation:inspect", evaluation.pk)
    return _action_response(request, evaluation, form, _("Withdraw the evaluation"), _("Withdraw"))


# --- A caregiver's history -------------------------------------------------------------------------------


def caregiver_history_allowed(*, viewer: User, caregiver: CaregiverProfile) -> bool:
    """Administrators read everyone's; an institution manager reads their own institution's staff only."""
    if viewer.is_administrator:
        return True
    return (
        viewer.has_role(Role.MANAGER)
        and viewer.institution_id is not None
        and viewer.institution_id == caregiver.institution_id
    )


def _timeline(history: dict) -> list[dict]:
    """Evaluations, appeals and certificates as one list, newest first."""
    rows = []
    for evaluation in history["evaluations"]:
        rows.append({"kind": "evaluation", "at": evaluation.decided_at or evaluation.created_at, "item": evaluation})
        for appeal in evaluation.appeals.all():
            rows.append({"kind": "appeal", "at": appeal.filed_at, "item": appeal})
    for certificate in history["certificates"]:
        rows.append({"kind": "certificate", "at": certificate.created_at, "item": certificate})
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows


def caregiver_history(request, caregiver_id: int):
    caregiver = get_object_or_404(CaregiverProfile.objects.select_related("user", "institution"), pk=caregiver_id)
    if not caregiver_history_allowed(viewer=request.user, caregiver=caregiver):
        raise PermissionDenied
    history = selectors.caregiver_history(caregiver=caregiver)
    return TemplateResponse(
        request,
        "certification/admin/caregiver_history.html",
        {
            "caregiver": caregiver,
            "history": history,
            "timeline": _timeline(history),
            "links": request.user.is_administrator,
            "page_title": _("Star evaluation history"),
        },
    )
