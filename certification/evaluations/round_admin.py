"""Re-evaluation (复评) in the Wagtail admin: rounds with their progress, the due list, nominations.

Administrators see every institution; an institution manager (role "manager" with an institution) sees and acts
for their own institution only. Every view checks that on the server, whatever the menu shows.
"""

import datetime

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import BaseListingView, WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.widgets.button import HeaderButton

from accounts import services as account_services
from accounts.models import CaregiverProfile, County, Institution, Role

from ..certificates import services as certificates
from . import selectors, services
from .models import Evaluation, EvaluationRound


def is_manager(user) -> bool:
    return user.has_role(Role.MANAGER) and user.institution_id is not None


def is_round_staff(user) -> bool:
    return user.is_administrator or is_manager(user)


class RoundStaffMixin:
    """Administrators, and managers of an institution; nobody else."""

    def dispatch(self, request, *args, **kwargs):
        if not is_round_staff(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ManagerMixin:
    def dispatch(self, request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class RoundStaffMenuItem(MenuItem):
    def is_shown(self, request):
        return is_round_staff(request.user)


class ManagerMenuItem(MenuItem):
    def is_shown(self, request):
        return is_manager(request.user)


def round_scope(evaluation_round: EvaluationRound) -> str:
    return str(evaluation_round.institution or evaluation_round.county or "")


def round_visible(*, viewer, evaluation_round: EvaluationRound) -> bool:
    """The same scope as selectors.rounds_with_progress: managers see their own institution's rounds."""
    return viewer.is_administrator or (
        evaluation_round.institution_id is not None and evaluation_round.institution_id == viewer.institution_id
    )


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 100


# --- Rounds ---------------------------------------------------------------------------------------------


class ProgressColumn(Column):
    cell_template_name = "certification/admin/round_progress_cell.html"


class RoundIndexView(RoundStaffMixin, BaseListingView):
    """The latest rounds with their progress: one query for the list, whatever its length."""

    page_title = _("Evaluation rounds")
    header_icon = "tasks"
    paginate_by = None
    columns = [
        TitleColumn("name", label=_("Name"), url_name="evaluation_rounds:detail"),
        Column("scope", label=_("Scope")),
        Column("closes_on", label=_("To be completed by")),
        Column("opened_by", label=_("Opened by")),
        ProgressColumn("progress", label=_("Progress")),
    ]

    def get_base_queryset(self):
        return selectors.rounds_with_progress(viewer=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rounds = list(context["object_list"])
        for evaluation_round in rounds:
            evaluation_round.scope = round_scope(evaluation_round)
            evaluation_round.percent = percent(evaluation_round.closed, evaluation_round.total)
        context["table"] = self.get_table(rounds)
        return context

    def get_header_buttons(self):
        return [HeaderButton(gettext("Open a round"), url=reverse("evaluation_rounds:add"), icon_name="plus")]


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Institution.objects.order_by("name"), required=False
    )
    county = forms.ModelChoiceField(label=_("County"), queryset=County.objects.all(), required=False)
    due_by = forms.DateField(
        label=_("Only caregivers whose re-evaluation falls due by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave blank to include every caregiver in the scope who has no evaluation in progress."),
    )
    closes_on = forms.DateField(label=_("To be completed by"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, institution: Institution | None = None, **kwargs):
        """`institution` fixes the scope (a manager's own institution): the scope fields go."""
        super().__init__(*args, **kwargs)
        self.fixed_institution = institution
        if institution is not None:
            del self.fields["institution"]
            del self.fields["county"]

    def clean(self):
        cleaned = super().clean()
        if self.fixed_institution is None and (cleaned.get("institution") is None) == (cleaned.get("county") is None):
            raise ValidationError(gettext("Choose either an institution or a county, not both."))
        return cleaned

    def scope(self) -> dict:
        if self.fixed_institution is not None:
            return {"institution": self.fixed_institution, "county": None}
        return {"institution": self.cleaned_data["institution"], "county": self.cleaned_data["county"]}


class RoundCreateView(RoundStaffMixin, WagtailAdminTemplateMixin, FormView):
    form_class = RoundForm
    template_name = "certification/admin/round_form.html"
    page_title = _("Open a re-evaluation round")
    header_icon = "tasks"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("evaluation_rounds:index"), "label": gettext("Evaluation rounds")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_initial(self):
        """Prefilled from the due list: ?institution=…&county=…&due_by=…"""
        initial = {"closes_on": timezone.localdate() + datetime.timedelta(days=selectors.DUE_SOON_DAYS)}
        for key in ("institution", "county", "due_by"):
            if self.request.GET.get(key):
                initial[key] = self.request.GET[key]
        return initial

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if not self.request.user.is_administrator:
            kwargs["institution"] = self.request.user.institution
        return kwargs

    def form_valid(self, form):
        try:
            evaluation_round = services.round_open(
                actor=self.request.user,
                name=form.cleaned_data["name"],
                closes_on=form.cleaned_data["closes_on"],
                due_by=form.cleaned_data["due_by"],
                **form.scope(),
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("Round %(name)s opened: %(count)s evaluations are waiting for an assessor.")
            % {"name": evaluation_round.name, "count": evaluation_round.evaluations.count()},
        )
        return redirect("evaluation_rounds:detail", pk=evaluation_round.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action_url=self.request.get_full_path(),
            submit_button_label=gettext("Open the round"),
            submit_button_active_label=gettext("Opening…"),
            media=context["form"].media,
        )
        return context


class RoundDetailView(RoundStaffMixin, BaseListingView):
    """A round's progress by status and its evaluations, a page at a time."""

    template_name = "certification/admin/round_detail.html"
    header_icon = "tasks"
    paginate_by = 50
    columns = [
        Column("caregiver", label=_("Caregiver")),
        Column("institution", label=_("Institution"), accessor="caregiver.institution"),
        Column("status", label=_("Status"), accessor="get_status_display"),
        Column("assessor", label=_("Assessor")),
        Column("level", label=_("Star level")),
        Column("decided_at", label=_("Decided at")),
    ]

    @cached_property
    def evaluation_round(self) -> EvaluationRound:
        evaluation_round = get_object_or_404(
            EvaluationRound.objects.select_related("institution", "county", "opened_by"), pk=self.kwargs["pk"]
        )
        if not round_visible(viewer=self.request.user, evaluation_round=evaluation_round):
            raise Http404
        return evaluation_round

    def get_page_title(self):
        return self.evaluation_round.name

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("evaluation_rounds:index"), "label": gettext("Evaluation rounds")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_index_url(self):
        return reverse("evaluation_rounds:detail", args=[self.evaluation_round.pk])

    def get_base_queryset(self):
        return (
            selectors.evaluations_listed()
            .filter(round=self.evaluation_round)
            .order_by("caregiver__user__name", "caregiver_id", "pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        progress = selectors.round_progress(evaluation_round=self.evaluation_round)
        context.update(
            evaluation_round=self.evaluation_round,
            scope=round_scope(self.evaluation_round),
            progress=progress,
            statuses=[(label, progress["by_status"][value]) for value, label in Evaluation.Status.choices],
            overdue=not progress["done"] and self.evaluation_round.closes_on < timezone.localdate(),
            can_issue=self.request.user.is_administrator and progress["decided"] > 0,
        )
        return context


@require_POST
def round_certificates(request, pk: int):
    """Administrators issue the certificates of a round's decisions in force, then watch the batch."""
    if not request.user.is_administrator:
        raise PermissionDenied
    evaluation_round = get_object_or_404(EvaluationRound, pk=pk)
    try:
        batch = certificates.certificate_batch_create(
            actor=request.user,
            name=gettext("%(round)s: certificates") % {"round": evaluation_round.name},
            round_id=evaluation_round.pk,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("evaluation_rounds:detail", pk=evaluation_round.pk)
    return redirect("certificate_batches:detail", pk=batch.pk)


# --- Due list -------------------------------------------------------------------------------------------


class DueDateColumn(Column):
    cell_template_name = "certification/admin/due_date_cell.html"


class NominateColumn(Column):
    cell_template_name = "certification/admin/nominate_cell.html"


class PhotoColumn(Column):
    cell_template_name = "certification/admin/photo_cell.html"


class ReEvaluationDueFilterSet(WagtailFilterSet):
    county = django_filters.ModelChoiceFilter(
        label=_("County"),
        field_name="institution__county",
        queryset=County.objects.all(),
        empty_label=_("All counties"),
    )
    institution = django_filters.ModelChoiceFilter(
        label=_("Institution"), queryset=Institution.objects.order_by("name"), empty_label=_("All institutions")
    )

    class Meta:
        model = CaregiverProfile
        fields = ["county", "institution"]


class StaffReportView(RoundStaffMixin, ReportView):
    @cached_property
    def permission_policy(self):
        return None

    def order_queryset(self, queryset):
        ordering = self.ordering or self.default_ordering
        return queryset.order_by(ordering, "pk")


class ReEvaluationDueView(StaffReportView):
    """Caregivers whose re-evaluation is due within 60 days or overdue, with none open; managers: their own."""

    template_name = "certification/admin/re_evaluation_due.html"
    page_title = _("Re-evaluation due")
    header_icon = "date"
    index_url_name = "re_evaluation_due:index"
    index_results_url_name = "re_evaluation_due:results"
    default_ordering = "re_evaluation_due_on"
    list_export = [
        "name",
        "institution.name",
        "institution.county.name",
        "star_level",
        "re_evaluation_due_on",
        "overdue_label",
    ]
    export_headings = {
        "name": _("Caregiver"),
        "institution.name": _("Institution"),
        "institution.county.name": _("County"),
        "star_level": _("Current star level"),
        "re_evaluation_due_on": _("Re-evaluation due on"),
        "overdue_label": _("Overdue"),
    }

    def dispatch(self, request, *args, **kwargs):
        # Administrators filter by county and institution; a manager's list is their institution already.
        self.filterset_class = ReEvaluationDueFilterSet if request.user.is_administrator else None
        return super().dispatch(request, *args, **kwargs)

    @property
    def columns(self):
        columns = [
            Column("name", label=_("Caregiver"), sort_key="user__name"),
            Column("institution", label=_("Institution"), accessor="institution.name", sort_key="institution__name"),
            Column("county", label=_("County"), accessor="institution.county.name"),
            Column("star_level", label=_("Current star level"), sort_key="star_level"),
            DueDateColumn("re_evaluation_due_on", label=_("Re-evaluation due on"), sort_key="re_evaluation_due_on"),
        ]
        if is_manager(self.request.user):
            columns.append(NominateColumn("nominate_url", label=""))
        return columns

    def get_filename(self):
        return "复评到期名单"

    @cached_property
    def today(self) -> datetime.date:
        return timezone.localdate()

    def get_base_queryset(self):
        return selectors.re_evaluation_due(viewer=self.request.user, today=self.today)

    def decorate_paginated_queryset(self, object_list):
        rows = list(object_list)
        next_url = self.request.get_full_path()
        for row in rows:
            row.overdue = row.re_evaluation_due_on < self.today
            row.overdue_label = gettext("Overdue") if row.overdue else ""
            row.nominate_url = f"{reverse('nominations:nominate', args=[row.pk])}?{urlencode({'next': next_url})}"
        return rows

    def get_header_buttons(self):
        """An administrator who has chosen an institution or a county may open a round for it from here."""
        due_by = (self.today + datetime.timedelta(days=selectors.DUE_SOON_DAYS)).isoformat()
        if is_manager(self.request.user):
            scope = {}
        elif self.filters and self.filters.is_valid() and self.filters.form.cleaned_data.get("institution"):
            scope = {"institution": self.filters.form.cleaned_data["institution"].pk}
        elif self.filters and self.filters.is_valid() and self.filters.form.cleaned_data.get("county"):
            scope = {"county": self.filters.form.cleaned_data["county"].pk}
        else:
            return []
        url = f"{reverse('evaluation_rounds:add')}?{urlencode({**scope, 'due_by': due_by})}"
        return [HeaderButton(gettext("Open a round for these caregivers"), url=url, icon_name="plus")]

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["due_help"] = gettext(
            "Caregivers whose re-evaluation falls due within %(days)s days, or is overdue, and who have no "
            "evaluation in progress."
        ) % {"days": selectors.DUE_SOON_DAYS}
        return context


# --- Nominations ----------------------------------------------------------------------------------------


class NominationIndexView(ManagerMixin, StaffReportView):
    """A manager's staff, their level in force and whether an evaluation is open; nominate from here."""

    page_title = _("Nominate for star evaluation")
    header_icon = "user"
    index_url_name = "nominations:index"
    index_results_url_name = "nominations:results"
    default_ordering = "user__name"
    is_searchable = True
    search_fields = ["user__name"]
    search_backend_name = None
    columns = [
        Column("name", label=_("Caregiver"), sort_key="user__name"),
        Column("star_level", label=_("Current star level"), sort_key="star_level"),
        Column("re_evaluation_due_on", label=_("Re-evaluation due on"), sort_key="re_evaluation_due_on"),
        Column("open_label", label=_("Evaluation in progress")),
        NominateColumn("nominate_url", label=""),
        PhotoColumn("photo_url", label=_("Photo")),
    ]

    def get_base_queryset(self):
        return selectors.caregivers_for_nomination(manager=self.request.user)

    def decorate_paginated_queryset(self, object_list):
        rows = list(object_list)
        for row in rows:
            row.open_label = Evaluation.Status(row.open_status).label if row.open_status else ""
            row.nominate_url = None if row.open_status else reverse("nominations:nominate", args=[row.pk])
            row.photo_url = reverse("nominations:photo", args=[row.pk])
        return rows


class NominationForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the administrators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional: why now, what has changed since the last evaluation."),
    )


class NominateView(ManagerMixin, WagtailAdminTemplateMixin, FormView):
    form_class = NominationForm
    template_name = "certification/admin/nominate.html"
    page_title = _("Nominate for star evaluation")
    header_icon = "user"

    @cached_property
    def caregiver(self) -> CaregiverProfile:
        # Staff of another institution do not exist as far as this manager is concerned.
        return get_object_or_404(
            selectors.caregivers_with_star_level().select_related("user", "institution"),
            pk=self.kwargs["pk"],
            institution_id=self.request.user.institution_id,
        )

    def get_page_subtitle(self):
        return self.caregiver.name

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("nominations:index"), "label": gettext("Nominate for star evaluation")},
            {"url": "", "label": self.caregiver.name},
        ]

    def next_url(self) -> str:
        candidate = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(candidate, allowed_hosts={self.request.get_host()}):
            return candidate
        return reverse("nominations:index")

    def form_valid(self, form):
        try:
            services.evaluation_nominate(
                manager=self.request.user, caregiver=self.caregiver, note=form.cleaned_data["note"]
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("%(name)s is nominated: the administrators will assign an assessor.")
            % {"name": self.caregiver.name},
        )
        return redirect(self.next_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            caregiver=self.caregiver,
            action_url=self.request.get_full_path(),
            next_url=self.next_url(),
            submit_button_label=gettext("Nominate"),
            submit_button_active_label=gettext("Nominating…"),
            media=context["form"].media,
        )
        return context


class CaregiverPhotoForm(forms.Form):
    photo = forms.ImageField(label=_("Photo"), help_text=_("A recent ID-style photo; JPEG, PNG or WebP, at most 5 MB."))
    consent = forms.BooleanField(
        label=_("The caregiver agrees to this photo being printed on their certificates"),
        error_messages={"required": _("Record the caregiver's consent before saving a photo.")},
    )

    def clean_photo(self):
        from accounts.photos import photo_normalize

        return photo_normalize(self.cleaned_data["photo"])


class CaregiverPhotoView(ManagerMixin, WagtailAdminTemplateMixin, FormView):
    """A manager uploads the photo of one of their own staff, with the caregiver's consent recorded."""

    form_class = CaregiverPhotoForm
    template_name = "certification/admin/caregiver_photo.html"
    page_title = _("Caregiver's photo")
    header_icon = "image"

    @cached_property
    def caregiver(self) -> CaregiverProfile:
        return get_object_or_404(
            CaregiverProfile.objects.select_related("user", "institution"),
            pk=self.kwargs["pk"],
            institution_id=self.request.user.institution_id,
        )

    def get_page_subtitle(self):
        return self.caregiver.name

    def form_valid(self, form):
        account_services.caregiver_photo_set(
            caregiver=self.caregiver, photo=form.cleaned_data["photo"], recorded_by=self.request.user
        )
        messages.success(
            self.request,
            gettext("The photo of %(name)s is saved; their next certificates carry it.")
            % {"name": self.caregiver.name},
        )
        return redirect("nominations:index")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            caregiver=self.caregiver,
            action_url=self.request.get_full_path(),
            submit_button_label=gettext("Save the photo"),
            submit_button_active_label=gettext("Saving…"),
            form_is_multipart=True,
            media=context["form"].media,
        )
        return context


# --- Registration ---------------------------------------------------------------------------------------


class EvaluationRoundViewSet(ViewSet):
    name = "evaluation_rounds"
    url_prefix = "re-evaluation/rounds"
    icon = "tasks"
    menu_label = _("Evaluation rounds")
    menu_item_class = RoundStaffMenuItem

    def get_urlpatterns(self):
        return [
            path("", RoundIndexView.as_view(), name="index"),
            path("add/", RoundCreateView.as_view(), name="add"),
            path("<int:pk>/", RoundDetailView.as_view(), name="detail"),
            path("<int:pk>/certificates/", round_certificates, name="certificates"),
        ]


class ReEvaluationDueViewSet(ViewSet):
    name = "re_evaluation_due"
    url_prefix = "re-evaluation/due"
    icon = "date"
    menu_label = _("Re-evaluation due")
    menu_item_class = RoundStaffMenuItem

    def get_urlpatterns(self):
        return [
            path("", ReEvaluationDueView.as_view(), name="index"),
            path("results/", ReEvaluationDueView.as_view(results_only=True), name="results"),
        ]


class NominationViewSet(ViewSet):
    name = "nominations"
    url_prefix = "re-evaluation/nominations"
    icon = "user"
    menu_label = _("Nominate for star evaluation")
    menu_item_class = ManagerMenuItem

    def get_urlpatterns(self):
        return [
            path("", NominationIndexView.as_view(), name="index"),
            path("results/", NominationIndexView.as_view(results_only=True), name="results"),
            path("<int:pk>/", NominateView.as_view(), name="nominate"),
            path("<int:pk>/photo/", CaregiverPhotoView.as_view(), name="photo"),
        ]


class ReEvaluationGroup(ViewSetGroup):
    menu_label = _("Re-evaluation")
    menu_icon = "rotate"
    menu_order = 250
    items = [EvaluationRoundViewSet, ReEvaluationDueViewSet, NominationViewSet]
