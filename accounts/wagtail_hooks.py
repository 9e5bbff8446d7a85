from axes.models import AccessAttempt
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from .choosers import caregiver_chooser_viewset
from .forms import CaregiverProfileForm
from .guards import page_chooser_pages
from .models import AssessorProfile, CaregiverProfile, County, Institution, TrainingBody
from .two_factor import two_factor_required


class NationalIdColumn(Column):
    """The identity number in full for administrators, masked for everyone else."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["value"] = instance.national_id_for(parent_context["request"].user)
        return context


class CountyViewSet(ModelViewSet):
    model = County
    icon = "site"
    menu_label = _("Counties")
    list_display = ["name", "code"]
    form_fields = ["code", "name"]
    search_fields = ["name", "code"]


class InstitutionViewSet(ModelViewSet):
    model = Institution
    icon = "home"
    menu_label = _("Institutions")
    list_display = ["name", "code", "kind", "county"]
    list_filter = ["kind", "county"]
    form_fields = ["code", "name", "kind", "county", "address"]
    search_fields = ["name", "code"]


class TrainingBodyViewSet(ModelViewSet):
    model = TrainingBody
    icon = "group"
    menu_label = _("Training bodies")
    list_display = ["name", "code", "contact_phone"]
    form_fields = ["code", "name", "contact_phone", "group"]
    search_fields = ["name", "code"]


class CaregiverViewSet(ModelViewSet):
    model = CaregiverProfile
    icon = "user"
    menu_label = _("Caregivers")
    list_display = [
        Column("name", label=_("full name"), accessor="user.name"),
        NationalIdColumn("national_id", label=_("identity card number")),
        "institution",
        "practitioner_level",
        "employed_since",
    ]
    list_filter = ["institution__county", "practitioner_level"]
    search_fields = ["user__name", "institution__name"]
    edit_handler = ObjectList(
        [
            FieldPanel("gender"),
            FieldPanel("national_id"),
            FieldPanel("institution"),
            FieldPanel("employed_since"),
            FieldPanel("practitioner_level"),
            FieldPanel("photo"),
            FieldPanel("photo_consent"),
        ],
        base_form_class=CaregiverProfileForm,
    )
    inspect_view_enabled = True
    inspect_view_fields = [
        "name",
        "gender",
        "national_id_masked",
        "institution",
        "employed_since",
        "practitioner_level",
        "photo_consent_at",
    ]
    copy_view_enabled = False

    def get_queryset(self, request):
        return CaregiverProfile.objects.select_related("user", "institution")


class AssessorViewSet(ModelViewSet):
    model = AssessorProfile
    icon = "user"
    menu_label = _("Assessors")
    list_display = [Column("name", label=_("full name"), accessor="user.name"), "institution", "certificate_number"]
    form_fields = ["institution", "qualifications", "certificate_number"]
    copy_view_enabled = False


class SignInLockoutViewSet(ModelViewSet):
    """Failed sign-ins per account and address (django-axes); deleting a row lifts its lockout."""

    model = AccessAttempt
    icon = "lock"
    menu_label = _("Sign-in lockouts")
    url_prefix = "sign-in-lockouts"
    list_display = ["username", "ip_address", "failures_since_start", "attempt_time"]
    list_filter = ["attempt_time"]
    search_fields = ["username", "ip_address"]
    form_fields = []
    add_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time"]

    def get_queryset(self, request):
        return AccessAttempt.objects.order_by("-attempt_time")


class PeopleGroup(ModelViewSetGroup):
    menu_label = _("People and institutions")
    menu_icon = "group"
    items = [
        CountyViewSet,
        InstitutionViewSet,
        TrainingBodyViewSet,
        CaregiverViewSet,
        AssessorViewSet,
        SignInLockoutViewSet,
    ]


@hooks.register("register_admin_viewset")
def register_people():
    return PeopleGroup()


@hooks.register("register_admin_viewset")
def register_caregiver_chooser():
    return caregiver_chooser_viewset


@hooks.register("construct_reports_menu")
def site_history_menu_for_administrators(request, menu_items):
    if not getattr(request.user, "is_administrator", False):
        menu_items[:] = [item for item in menu_items if item.name != "site-history"]


@hooks.register("construct_page_chooser_queryset")
def page_chooser_without_others_drafts(pages, request):
    return page_chooser_pages(pages, request)


@hooks.register("register_log_actions")
def register_two_factor_log_actions(actions):
    actions.register_action(
        "carestar.two_factor.enrol", _("Set up two-step verification"), _("Two-step verification set up")
    )
    actions.register_action(
        "carestar.two_factor.recovery_codes", _("Make new recovery codes"), _("New recovery codes made")
    )
    actions.register_action(
        "carestar.two_factor.reset", _("Reset two-step verification"), _("Two-step verification reset")
    )


@hooks.register("register_account_menu_item")
def two_factor_account_menu_item(request):
    if not two_factor_required(request.user):
        return None
    return {
        "url": reverse("accounts:two_factor"),
        "label": _("Two-step verification"),
        "help_text": _("Set up a new phone, or make new recovery codes."),
    }


@hooks.register("register_log_actions")
def register_accounts_log_actions(actions):
    actions.register_action(
        "carestar.personal_data.download", _("Download own personal data"), _("Caregiver downloaded their own data")
    )
