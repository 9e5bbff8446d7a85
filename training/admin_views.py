"""Wagtail admin screens for training batches: the batch listing and forms scoped to the user's own training
body, the roster (add, import, remove) and the attendance register of each session."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.models import DeleteView, EditView, IndexView, InspectView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.permission_policies import ModelPermissionPolicy

from accounts.models import CaregiverProfile, TrainingBody
from accounts.national_id import national_id_normalize
from content import services as content_services
from content.admin_views import import_job_message, template_links
from content.models import ImportJob
from content.selectors import import_jobs_for

from . import selectors, services
from .models import BatchMember, BatchSession, CoursePage, SessionAttendance, TrainingBatch

# --- Permissions ------------------------------------------------------------------------------------------


class TrainingBatchPermissionPolicy(ModelPermissionPolicy):
    """Model permissions as usual, and on top of them: a training body reaches its own batches only."""

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and selectors.batch_user_can_manage(user=user, batch=instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return TrainingBatch.objects.none()
        return selectors.batches_for_user(user)


class OwnBatchMixin:
    """A view of one batch looks it up among those the user may manage: anything else is a 404."""

    def get_base_object_queryset(self):
        return selectors.batches_for_user(self.request.user)


class OwnBatchesMixin(OwnBatchMixin):
    """The listing and the forms: their queryset is of batches, the user's own."""

    def get_base_queryset(self):
        return selectors.batches_for_user(self.request.user).annotate(members_count=Count("members"))

    def get_queryset(self):
        return selectors.batches_for_user(self.request.user)


# --- The batch form ---------------------------------------------------------------------------------------


class TrainingBatchForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if user is not None and not user.is_administrator:
            self.fields["training_body"].queryset = TrainingBody.objects.filter(pk=user.training_body_id)
            self.fields["training_body"].initial = user.training_body_id
            self.fields["course"].queryset = selectors.courses_for_training_body(user.training_body_id)
        else:
            self.fields["course"].queryset = CoursePage.objects.order_by("title")

    def clean(self):
        cleaned = super().clean()
        sessions = self.formsets.get("sessions")
        # The form is cleaned before its formsets; validate them first so that deleted_forms is known.
        if sessions is not None and self.instance.pk and sessions.is_valid():
            removed = [form.instance.pk for form in sessions.deleted_forms if form.instance.pk]
            if removed and SessionAttendance.objects.filter(session_id__in=removed).exists():
                raise ValidationError(
                    _("A session with recorded attendance cannot be removed; correct its register first.")
                )
        return cleaned


class RosterLinkColumn(Column):
    cell_template_name = "training/admin/roster_link_cell.html"

    def get_value(self, instance):
        return reverse("training_batches:roster", args=[instance.pk])


class BatchIndexView(OwnBatchesMixin, IndexView):
    pass


class BatchEditView(OwnBatchesMixin, EditView):
    @property
    def header_more_buttons(self):
        from wagtail.admin.widgets.button import Button

        return [
            *super().header_more_buttons,
            Button(
                _("Roster and attendance"),
                url=reverse("training_batches:roster", args=[self.object.pk]),
                icon_name="group",
                priority=5,
            ),
        ]


class BatchDeleteView(OwnBatchesMixin, DeleteView):
    def dispatch(self, request, *args, **kwargs):
        if BatchMember.objects.filter(batch=self.object).exists():
            messages.error(request, _("A batch with caregivers on its roster cannot be deleted."))
            return redirect("training_batches:roster", self.object.pk)
        return super().dispatch(request, *args, **kwargs)


class BatchInspectView(OwnBatchesMixin, InspectView):
    pass


class BatchHistoryView(OwnBatchMixin, HistoryView):
    # The history's own queryset is of log entries (get_base_queryset): only the batch is looked up here.
    pass


class BatchUsageView(OwnBatchMixin, UsageView):
    # Where a batch is referenced: for the batch's own training body (and administrators) only.
    pass


# --- Roster and attendance --------------------------------------------------------------------------------


class AddMemberForm(forms.Form):
    national_id = forms.CharField(label=gettext_lazy("Identity card number"), max_length=18)
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=50)

    def clean(self):
        cleaned = super().clean()
        national_id = national_id_normalize(cleaned.get("national_id", ""))
        name = (cleaned.get("name") or "").strip()
        if national_id and name:
            caregiver = CaregiverProfile.objects.select_related("user").with_national_id(national_id).first()
            if caregiver is None or caregiver.name != name:
                raise ValidationError(_("No registered caregiver has this identity card number and name."))
            cleaned["caregiver"] = caregiver
        return cleaned


class RosterImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster spreadsheet (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class BatchMixin:
    def dispatch(self, request, *args, **kwargs):
        self.batch = get_object_or_404(selectors.batches_for_user(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


@method_decorator(sensitive_post_parameters("national_id"), name="dispatch")
class RosterView(BatchMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "training/admin/batch_roster.html"
    page_title = gettext_lazy("Roster and attendance")
    header_icon = "group"

    def get_page_subtitle(self):
        return self.batch.name

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("training_batches:index"), "label": TrainingBatch._meta.verbose_name_plural},
            {"url": reverse("training_batches:edit", args=[self.batch.pk]), "label": self.batch.name},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sessions = BatchSession.objects.filter(batch=self.batch).annotate(attended=Count("attendances"))
        context.update(
            {
                "batch": self.batch,
                "sessions": sessions,
                "members": selectors.batch_roster(batch=self.batch),
                "add_form": kwargs.get("add_form") or AddMemberForm(),
                "import_form": kwargs.get("import_form") or RosterImportForm(),
                "templates": template_links([ImportJob.Kind.BATCH_ROSTER]),
                "jobs": import_jobs_for(self.request.user, kind=ImportJob.Kind.BATCH_ROSTER, target_id=self.batch.pk)[
                    :5
                ],
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action == "add":
            return self.add_member()
        if action == "import":
            return self.import_roster()
        if action == "remove":
            return self.remove_member()
        messages.error(request, _("Unknown action."))
        return redirect("training_batches:roster", self.batch.pk)

    def add_member(self):
        form = AddMemberForm(self.request.POST)
        if form.is_valid():
            try:
                result = services.batch_roster_add(
                    batch=self.batch, caregivers=[form.cleaned_data["caregiver"]], user=self.request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if result["added"]:
                    messages.success(
                        self.request, _("%(name)s is on the roster.") % {"name": form.cleaned_data["name"]}
                    )
                else:
                    messages.info(
                        self.request, _("%(name)s was already on the roster.") % {"name": form.cleaned_data["name"]}
                    )
                return redirect("training_batches:roster", self.batch.pk)
        return self.render_to_response(self.get_context_data(add_form=form))

    def import_roster(self):
        form = RosterImportForm(self.request.POST, self.request.FILES)
        if form.is_valid():
            try:
                job = content_services.import_job_create(
                    kind=ImportJob.Kind.BATCH_ROSTER,
                    upload=form.cleaned_data["file"],
                    user=self.request.user,
                    target_id=self.batch.pk,
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                import_job_message(self.request, job)
                return redirect("content_imports:job", job.pk)
        return self.render_to_response(self.get_context_data(import_form=form))

    def remove_member(self):
        member = get_object_or_404(
            BatchMember.objects.select_related("caregiver__user"), batch=self.batch, pk=self.request.POST.get("member")
        )
        try:
            services.batch_roster_remove(batch=self.batch, caregiver=member.caregiver, user=self.request.user)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
        else:
            messages.success(self.request, _("%(name)s was taken off the roster.") % {"name": member.caregiver.name})
        return redirect("training_batches:roster", self.batch.pk)


class AttendanceView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "training/admin/session_attendance.html"
    page_title = gettext_lazy("Attendance")
    header_icon = "tick-inverse"

    def dispatch(self, request, *args, **kwargs):
        self.session = get_object_or_404(
            BatchSession.objects.select_related("batch__course"),
            pk=kwargs["session_pk"],
            batch__in=selectors.batches_for_user(request.user),
        )
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return f"{self.session.batch.name} · {self.session.topic}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        present = set(SessionAttendance.objects.filter(session=self.session).values_list("caregiver_id", flat=True))
        context.update(
            {
                "session": self.session,
                "batch": self.session.batch,
                "members": [
                    (member, member.caregiver_id in present)
                    for member in selectors.batch_roster(batch=self.session.batch)
                ],
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        try:
            caregiver_ids = [int(value) for value in request.POST.getlist("present")]
        except ValueError:
            messages.error(request, _("Only caregivers on the batch's roster can attend its sessions."))
            return redirect("training_batches:attendance", self.session.pk)
        try:
            result = services.session_attendance_record(
                session=self.session, caregiver_ids=caregiver_ids, user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("training_batches:attendance", self.session.pk)
        messages.success(
            request,
            _("Attendance saved: %(added)s added, %(removed)s removed.") % result,
        )
        return redirect("training_batches:roster", self.session.batch_id)
