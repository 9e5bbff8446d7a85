"""Administrators' screens for appeals (申诉): open ones first, decided by an administrator who was not the first
assessor. Every write goes through the evaluation services."""

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
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.admin.widgets.button import MenuItem

from accounts.conflicts import assessor_conflict
from accounts.models import User

from ..audit import AuditHistoryView, audit_trail
from ..rules.eligibility import levels_from_snapshot
from . import selectors, services
from .admin import RecordInspectView, level_display
from .models import Appeal


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
        Column(
            "appealed_level", label=gettext_lazy("Level appealed"), accessor=lambda a: level_display(a.evaluation.level)
        ),
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
            "now": selectors.evaluation_eligibility(evaluation=evaluation),
            "form": form,
            "page_title": _("Decide the appeal"),
        },
    )
