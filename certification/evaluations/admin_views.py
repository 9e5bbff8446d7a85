"""Administrators' screens for star evaluations in the Wagtail admin.

Rule sets: a ladder of levels that must rise monotonically; a version an evaluation has used is frozen and changes
go into a copy. Evaluations: a filtered list, an inspect page with the criteria as evaluated, the revision chain,
appeal, certificates and audit trail, and the administrator's actions (assign an assessor, withdraw). Appeals: open
ones first, decided by an administrator who was not the first assessor. A caregiver's history, which institution
managers may read for their own staff. Every write goes through services.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.admin.widgets.button import MenuItem

from accounts.conflicts import assessor_conflict
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


def _level(value) -> str:
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
            return _level(getattr(self.object, field_name))
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
            accessor=lambda e: _level(e.level),
            sort_key="level",
        ),
        Column(
            "computed_level",
            label=gettext_lazy("Computed star level"),
            accessor=lambda e: _level(e.computed_level) if e.rule_set_id else "—",
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


# --- Appeals ---------------------------------------------------------------------------------------------


def appeal_decide_refusal(*, appeal: Appeal, user: User) -> str | None:
    """Why this person may not decide this appeal, or None (the rule of services.appeal_decide)."""
    if not user.is_administrator:
        return _("Appeals are decided by administrators.")
    if appeal.status != Appeal.Status.OPEN:
        return _("This appeal has already been decided.")
    if user.pk == appeal.evaluation.assessor_id:
        return _("The first assessor may not decide an appeal against their own evaluation.")
    return assessor_conflict(assessor=user, caregiver=appeal.evaluation.caregiver)


class AppealIndexView(generic.IndexView):
    def get_base_queryset(self):
        # Open appeals first, the oldest at the top (a queue); decided ones after, the newest first.
        return (
            Appeal.objects.select_related("evaluation__caregiver__user", "evaluation__assessor", "decided_by")
            .annotate(is_decided=Case(When(status=Appeal.Status.OPEN, then=Value(0)), default=Value(1)))
            .order_by(
                "is_decided",
                Case(When(status=Appeal.Status.OPEN, then=F("filed_at"))).asc(),
                F("filed_at").desc(),
            )
        )

    @cached_property
    def columns(self):
        title = self._get_title_column_class(TitleColumn)(
            "caregiver",
            label=_("Caregiver"),
            accessor="evaluation.caregiver",
            get_url=self.get_inspect_url,
        )
        return [title] + super().columns[1:]

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if appeal_decide_refusal(appeal=instance, user=self.request.user) is None:
            buttons.append(
                MenuItem(_("Decide"), url=reverse("appeal:decide", args=[instance.pk]), icon_name="tick", priority=5)
            )
        return buttons


class AppealInspectView(RecordInspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(
            Appeal.objects.select_related(
                "evaluation__caregiver__user",
                "evaluation__caregiver__institution",
                "evaluation__assessor",
                "evaluation__reviewer",
                "evaluation__rule_set",
                "filed_by",
                "decided_by",
                "result",
            ),
            pk=self.pk,
        )

    @cached_property
    def refusal(self) -> str | None:
        return appeal_decide_refusal(appeal=self.object, user=self.request.user)

    @cached_property
    def header_buttons(self):
        buttons = []
        if self.refusal is None:
            buttons.append(
                HeaderButton(_("Decide"), url=reverse("appeal:decide", args=[self.object.pk]), icon_name="tick")
            )
        buttons.append(
            HeaderButton(
                _("Caregiver's history"),
                url=reverse("evaluation:caregiver_history", args=[self.object.evaluation.caregiver_id]),
                icon_name="list-ul",
            )
        )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "appeal": self.object,
                "evaluation": self.object.evaluation,
                "snapshot_levels": levels_from_snapshot(self.object.evaluation.criteria_snapshot),
                "refusal": self.refusal if self.object.status == Appeal.Status.OPEN else None,
                "audit": audit_trail(self.object),
            }
        )
        return context


class AppealViewSet(ModelViewSet):
    model = Appeal
    icon = "warning"
    menu_label = gettext_lazy("Appeals")
    index_view_class = AppealIndexView
    inspect_view_class = AppealInspectView
    history_view_class = AuditHistoryView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = []
    inspect_template_name = "certification/admin/appeal_inspect.html"
    search_fields = ["evaluation__caregiver__user__name"]
    list_filter = ["status"]
    list_display = [
        "evaluation",
        Column("appealed_level", label=gettext_lazy("Level appealed"), accessor=lambda a: _level(a.evaluation.level)),
        Column("first_assessor", label=gettext_lazy("First assessor"), accessor="evaluation.assessor"),
        "filed_at",
        "status",
        "decided_by",
        "decided_at",
    ]
    inspect_view_fields = ["status", "filed_by", "filed_at", "decided_by", "decided_at", "decision_note", "result"]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [path("decide/<int:pk>/", appeal_decide, name="decide")]


class AppealDecisionForm(forms.Form):
    UPHELD, DISMISSED = "upheld", "dismissed"

    outcome = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (UPHELD, gettext_lazy("Uphold: change the level")),
            (DISMISSED, gettext_lazy("Dismiss: the decision stands")),
        ],
    )
    level = forms.TypedChoiceField(
        label=gettext_lazy("New star level"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—"), (0, gettext_lazy("No star level"))] + [(n, f"{n} ★") for n in range(1, 6)],
        help_text=gettext_lazy("Only when the appeal is upheld. At most the level the record supports today."),
    )
    note = forms.CharField(
        label=gettext_lazy("Reasons for the decision"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("The caregiver receives these reasons."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == self.UPHELD and cleaned.get("level") is None:
            self.add_error("level", _("An upheld appeal changes the level: give the new level."))
        return cleaned


@require_http_methods(["GET", "POST"])
def appeal_decide(request, pk: int):
    if not request.user.is_administrator:
        raise PermissionDenied
    appeal = get_object_or_404(
        Appeal.objects.select_related(
            "evaluation__caregiver__user", "evaluation__caregiver__institution", "evaluation__assessor", "filed_by"
        ),
        pk=pk,
    )
    refusal = appeal_decide_refusal(appeal=appeal, user=request.user)
    if refusal:
        messages.error(request, refusal)
        return redirect("appeal:inspect", appeal.pk)
    form = AppealDecisionForm(request.POST or None)
    if form.is_valid():
        upheld = form.cleaned_data["outcome"] == AppealDecisionForm.UPHELD
        try:
            appeal = services.appeal_decide(
                appeal=appeal,
                actor=request.user,
                upheld=upheld,
                note=form.cleaned_data["note"],
                level=form.cleaned_data["level"] if upheld else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            messages.error(request, str(error))
            return redirect("appeal:inspect", appeal.pk)
        else:
            if appeal.status == Appeal.Status.UPHELD:
                messages.success(
                    request,
                    _("Appeal upheld: a new decision of %(level)s stars was made; the certificate follows.")
                    % {"level": appeal.result.level},
                )
            else:
                messages.success(request, _("Appeal dismissed: the decision stands."))
            return redirect("appeal:inspect", appeal.pk)
    evaluation = appeal.evaluation
    return TemplateResponse(
        request,
        "certification/admin/appeal_decide.html",
        {
            "appeal": appeal,
            "evaluation": evaluation,
            "snapshot_levels": levels_from_snapshot(evaluation.criteria_snapshot),
            "now": services.evaluation_eligibility(evaluation=evaluation),
            "form": form,
            "page_title": _("Decide the appeal"),
        },
    )
