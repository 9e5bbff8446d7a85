"""Admin screens for practical checklists and for assigning candidates to assessors."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from accounts.conflicts import assessor_conflict

from . import services
from .models import PracticalAssessment, PracticalTemplate


@hooks.register("register_log_actions")
def register_practical_log_actions(actions):
    actions.register_action("carestar.practical.assign", _("Assign practical assessment"), _("Candidate assigned"))
    actions.register_action("carestar.practical.score", _("Score practical assessment"), _("Practical scored"))


class PracticalTemplateIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("service_item")


class PracticalTemplateViewSet(ModelViewSet):
    model = PracticalTemplate
    icon = "list-ol"
    menu_label = gettext_lazy("Practical checklists")
    add_to_admin_menu = False
    index_view_class = PracticalTemplateIndexView
    list_display = ["title", "service_item", "pass_mark", "is_active"]
    list_filter = ["service_item", "is_active"]
    search_fields = ["title"]


class AssignmentForm(WagtailAdminModelForm):
    """Runs the assignment rules (conflict of interest among them) as form errors, before anything is saved."""

    def clean(self):
        cleaned = super().clean()
        assessor, caregiver = cleaned.get("assessor"), cleaned.get("caregiver")
        if assessor and caregiver:
            conflict = assessor_conflict(assessor=assessor, caregiver=caregiver)
            if conflict:
                self.add_error("assessor", conflict)
        return cleaned


class AssignmentCreateView(generic.CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        try:
            return services.practical_assign(
                template=data["template"],
                caregiver=data["caregiver"],
                assessor=data["assessor"],
                assigned_by=self.request.user,
                scheduled_on=data.get("scheduled_on"),
            )
        except ValidationError as error:
            self.form.add_error(None, error)
            raise

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError:
            return self.form_invalid(form)


class AssignmentIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("template", "caregiver__user", "assessor")


class AssignmentDeleteView(generic.DeleteView):
    """An assignment can be withdrawn until it is scored; a scored assessment is a record."""

    def get_object(self, queryset=None):
        instance = super().get_object(queryset)
        if instance.status != PracticalAssessment.Status.ASSIGNED:
            raise PermissionDenied
        return instance


class PracticalAssessmentViewSet(ModelViewSet):
    model = PracticalAssessment
    icon = "clipboard-list"
    menu_label = gettext_lazy("Practical assessments")
    add_to_admin_menu = False
    index_view_class = AssignmentIndexView
    add_view_class = AssignmentCreateView
    delete_view_class = AssignmentDeleteView
    edit_handler = ObjectList(
        [FieldPanel("template"), FieldPanel("caregiver"), FieldPanel("assessor"), FieldPanel("scheduled_on")],
        base_form_class=AssignmentForm,
    )
    list_display = ["caregiver", "template", "assessor", "scheduled_on", "status", "score", "passed"]
    list_filter = ["status", "template", "passed"]
    search_fields = ["caregiver__user__name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "caregiver",
        "template",
        "assessor",
        "assigned_by",
        "assigned_at",
        "scheduled_on",
        "status",
        "score",
        "passed",
        "critical_failed",
        "notes",
        "scored_at",
    ]
    copy_view_enabled = False


practical_template_viewset = PracticalTemplateViewSet("practical_checklists")
practical_assessment_viewset = PracticalAssessmentViewSet("practical_assessments")
