from axes.models import AccessAttempt
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import Button
from wagtail.admin.widgets.button import MenuItem as ButtonMenuItem

from . import admin_views
from .choosers import caregiver_chooser_viewset
from .forms import CaregiverProfileForm
from .guards import page_chooser_pages
from .models import AssessorProfile, CaregiverProfile, County, Institution, TrainingBody
from .two_factor import two_factor_required

REVEAL_LABEL = _("Show the whole number")


def _can_reveal(request) -> bool:
    return getattr(request.user, "is_administrator", False)


class CaregiverIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user", "institution")

    @cached_property
    def columns(self):
        # The name leads to the record and carries the row's actions, as a listing's title column does.
        view = self
        first, *others = super().columns

        class NameColumn(ButtonsColumnMixin, TitleColumn):
            def get_buttons(self, instance, parent_context):
                return view.get_list_buttons(instance)

        name = NameColumn(
            first.name,
            label=first.label,
            accessor=first.accessor,
            sort_key=first.sort_key,
            get_url=lambda instance: view.get_edit_url(instance) or view.get_inspect_url(instance),
        )
        return [name, *others]

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if _can_reveal(self.request):
            buttons.append(
                ButtonMenuItem(
                    REVEAL_LABEL, url=admin_views.national_id_reveal_url(instance), icon_name="view", priority=40
                )
            )
        return buttons


@method_decorator(sensitive_post_parameters("national_id"), name="dispatch")
class CaregiverEditView(generic.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if _can_reveal(self.request):
            buttons.append(
                Button(REVEAL_LABEL, url=admin_views.national_id_reveal_url(self.object), icon_name="view", priority=40)
            )
        return buttons


class CaregiverInspectView(generic.InspectView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if _can_reveal(self.request):
            buttons.append(
                Button(REVEAL_LABEL, url=admin_views.national_id_reveal_url(self.object), icon_name="view", priority=40)
            )
        return buttons


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
    """Caregivers' records. Identity numbers are masked for everyone; an administrator may have one shown in full,
    which the caregiver's history records (admin_views.caregiver_national_id_reveal)."""

    model = CaregiverProfile
    icon = "user"
    menu_label = _("Caregivers")
    index_view_class = CaregiverIndexView
    edit_view_class = CaregiverEditView
    inspect_view_class = CaregiverInspectView
    list_display = [
        Column("name", label=_("full name"), accessor="user.name", sort_key="user__name"),
        Column("national_id", label=_("identity card number"), accessor="national_id_masked"),
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

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("national-id/<int:pk>/", admin_views.caregiver_national_id_reveal, name="national_id_reveal"),
        ]


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


@hooks.register("register_log_actions")
def register_accounts_log_actions(actions):
    actions.register_action(
        "carestar.personal_data.download", _("Download own personal data"), _("Caregiver downloaded their own data")
    )
    actions.register_action(
        "carestar.national_id.reveal", _("Show identity card number"), _("Whole identity card number shown")
    )


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
