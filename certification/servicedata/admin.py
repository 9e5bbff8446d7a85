"""Service data in the Wagtail admin, for administrators only: the spreadsheet upload, read-only listings of
imports, monthly figures and incidents, and the client systems that post through the API with their tokens.

Imported by certification/wagtail_hooks.py (Wagtail loads hook modules of apps only)."""

import django_filters
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import HeaderButton
from wagtail.admin.widgets.button import MenuItem as ButtonMenuItem

from accounts.guards import AdministratorMenuItem
from accounts.models import Institution

from . import admin_views
from .models import ServiceDataClient, ServiceDataImport, ServiceIncident, ServiceMonth


@hooks.register("register_log_actions")
def register_service_data_log_actions(actions):
    actions.register_action("carestar.servicedata.import", _("Import service data"), _("Service data imported"))
    for action, label, message in [
        ("create", _("Create service data client"), _("Service data client created")),
        ("rotate", _("Replace client token"), _("Client token replaced")),
        ("deactivate", _("Deactivate service data client"), _("Service data client deactivated")),
        ("activate", _("Reactivate service data client"), _("Service data client reactivated")),
    ]:
        actions.register_action(f"carestar.servicedata_client.{action}", label, message)


class ServiceDataUploadViewSet(ViewSet):
    name = "service_data_upload"
    url_prefix = "service-data/import"
    icon = "upload"
    menu_label = _("Import from a spreadsheet")
    menu_item_class = AdministratorMenuItem

    @property
    def menu_url(self):
        return reverse("service_data_upload:index")

    def get_urlpatterns(self):
        return [
            path("", admin_views.ServiceDataUploadView.as_view(), name="index"),
            path("template/<str:kind>.<str:extension>", admin_views.TemplateDownloadView.as_view(), name="template"),
        ]


# --- Read-only listings ----------------------------------------------------------------------------------


class ImportIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("client", "uploaded_by")

    @property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(_("Import from a spreadsheet"), url=reverse("service_data_upload:index"), icon_name="upload"),
        ]


class ServiceDataImportViewSet(ModelViewSet):
    model = ServiceDataImport
    name = "service_data_imports"
    icon = "download"
    menu_label = _("Service data imports")
    index_view_class = ImportIndexView
    list_display = [
        "created_at",
        "source",
        "client",
        "uploaded_by",
        "file_name",
        "months_written",
        "incidents_written",
    ]
    list_filter = ["source", "client"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "source",
        "client",
        "uploaded_by",
        "batch_key",
        "file_name",
        "months_written",
        "incidents_written",
        "created_at",
    ]
    copy_view_enabled = False
    form_fields = []


class CaregiverFilterSet(WagtailFilterSet):
    institution = django_filters.ModelChoiceFilter(
        label=_("Institution"),
        field_name="caregiver__institution",
        queryset=Institution.objects.order_by("name"),
        empty_label=_("All institutions"),
    )


class ServiceMonthFilterSet(CaregiverFilterSet):
    class Meta:
        model = ServiceMonth
        fields = ["institution"]


class ServiceIncidentFilterSet(CaregiverFilterSet):
    class Meta:
        model = ServiceIncident
        fields = ["institution", "kind", "substantiated"]


class CaregiverListingIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("caregiver__user", "caregiver__institution", "imported_in")


def yes_no(value: bool) -> str:
    return gettext("yes") if value else gettext("no")


CAREGIVER_COLUMNS = [
    Column("caregiver", label=_("Caregiver"), accessor="caregiver", sort_key="caregiver__user__name"),
    Column("national_id", label=_("Identity card number"), accessor="caregiver.national_id_masked"),
    Column("institution", label=_("Institution"), accessor="caregiver.institution"),
]
# By name only: an identity number in a search box would be in the URL, and so in access logs.
CAREGIVER_SEARCH = ["caregiver__user__name"]


class ServiceMonthViewSet(ModelViewSet):
    model = ServiceMonth
    name = "service_months"
    icon = "date"
    menu_label = _("Monthly service figures")
    index_view_class = CaregiverListingIndexView
    list_display = [
        *CAREGIVER_COLUMNS,
        Column("month", label=_("Month"), accessor=lambda row: f"{row.month:%Y-%m}", sort_key="month"),
        "service_hours",
        "surveys",
        "satisfied",
    ]
    filterset_class = ServiceMonthFilterSet
    search_fields = CAREGIVER_SEARCH
    search_backend_name = None
    inspect_view_enabled = True
    inspect_view_fields = ["caregiver", "month", "service_hours", "surveys", "satisfied", "imported_in"]
    copy_view_enabled = False
    form_fields = []


class ServiceIncidentViewSet(ModelViewSet):
    model = ServiceIncident
    name = "service_incidents"
    icon = "warning"
    menu_label = _("Service incidents")
    index_view_class = CaregiverListingIndexView
    list_display = [
        "reference",
        *CAREGIVER_COLUMNS,
        "kind",
        "occurred_on",
        Column("substantiated", label=_("Substantiated"), accessor=lambda incident: yes_no(incident.substantiated)),
    ]
    filterset_class = ServiceIncidentFilterSet
    search_fields = ["reference", *CAREGIVER_SEARCH]
    search_backend_name = None
    inspect_view_enabled = True
    inspect_view_fields = ["reference", "caregiver", "kind", "occurred_on", "substantiated", "summary", "imported_in"]
    copy_view_enabled = False
    form_fields = []


# --- Client systems ---------------------------------------------------------------------------------------


class ClientIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("created_by")

    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            ButtonMenuItem(
                _("Replace the token"),
                url=reverse("service_data_clients:rotate", args=[instance.pk]),
                icon_name="key",
                priority=40,
            ),
            ButtonMenuItem(
                _("Deactivate") if instance.is_active else _("Reactivate"),
                url=reverse("service_data_clients:active", args=[instance.pk]),
                icon_name="lock" if instance.is_active else "lock-open",
                priority=50,
            ),
        ]


class ServiceDataClientViewSet(ModelViewSet):
    model = ServiceDataClient
    name = "service_data_clients"
    icon = "key"
    menu_label = _("Client systems")
    index_view_class = ClientIndexView
    add_view_class = admin_views.ClientCreateView
    form_fields = ["name"]
    list_display = [
        "name",
        Column("token_prefix", label=_("Token begins with"), accessor=lambda client: f"{client.token_prefix}…"),
        Column("is_active", label=_("Active"), accessor=lambda client: yes_no(client.is_active)),
        "created_by",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["is_active"]
    inspect_view_enabled = True
    inspect_view_fields = ["name", "token_prefix", "is_active", "created_by", "created_at", "last_used_at"]
    copy_view_enabled = False

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("rotate/<int:pk>/", admin_views.client_rotate, name="rotate"),
            path("active/<int:pk>/", admin_views.client_active, name="active"),
        ]


class ServiceDataGroup(ModelViewSetGroup):
    menu_label = _("LTCI service data")
    menu_icon = "table"
    items = [
        ServiceDataUploadViewSet,
        ServiceDataImportViewSet,
        ServiceMonthViewSet,
        ServiceIncidentViewSet,
        ServiceDataClientViewSet,
    ]


@hooks.register("register_admin_viewset")
def register_service_data():
    return ServiceDataGroup()
