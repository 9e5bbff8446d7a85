from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import LiveStatusTagColumn, UpdatedAtColumn
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from accounts.guards import AdministratorMenuItem

from . import admin_views
from .models import Clause, ServiceItem, Standard

CARE_STANDARDS_MENU_HOOK = "register_care_standards_menu_item"


class StandardViewSet(SnippetViewSet):
    model = Standard
    icon = "doc-full"
    menu_label = _("Standards")
    list_display = ["code", "title", "kind", "version", "effective_date", LiveStatusTagColumn(), UpdatedAtColumn()]
    list_filter = ["kind", "live"]
    search_fields = ["code", "title"]
    search_backend_name = None  # plain substring search: Chinese titles have no spaces for a word index


class ClauseViewSet(SnippetViewSet):
    model = Clause
    icon = "openquote"
    menu_label = _("Clauses")
    list_display = ["number", "title", "standard", LiveStatusTagColumn(), UpdatedAtColumn()]
    list_filter = ["standard", "live"]
    search_fields = ["number", "title", "text"]
    search_backend_name = None

    def get_queryset(self, request):
        return Clause.objects.select_related("standard", "latest_revision")


class ServiceItemViewSet(SnippetViewSet):
    model = ServiceItem
    icon = "list-ul"
    menu_label = _("Service items")
    list_display = ["code", "name", "category", LiveStatusTagColumn(), UpdatedAtColumn()]
    list_filter = ["category", "live"]
    search_fields = ["code", "name", "description"]
    search_backend_name = None


class SpreadsheetImportViewSet(ViewSet):
    """Upload clauses or the service item list from a spreadsheet; check each upload's report."""

    name = "content_imports"
    url_prefix = "care-standards/import"
    icon = "upload"
    menu_label = _("Import from a spreadsheet")
    menu_hook = CARE_STANDARDS_MENU_HOOK
    menu_item_class = AdministratorMenuItem

    @property
    def menu_url(self):
        return reverse("content_imports:index")

    def get_urlpatterns(self):
        return [
            path("", admin_views.LibraryImportView.as_view(), name="index"),
            path("jobs/<int:pk>/", admin_views.ImportJobView.as_view(), name="job"),
            path("template/<str:kind>.<str:extension>", admin_views.TemplateDownloadView.as_view(), name="template"),
        ]


class CareStandardsGroup(SnippetViewSetGroup):
    menu_label = _("Care standards")
    menu_icon = "doc-full-inverse"
    submenu_hook = CARE_STANDARDS_MENU_HOOK
    items = (StandardViewSet, ClauseViewSet, ServiceItemViewSet)


register_snippet(CareStandardsGroup)


@hooks.register("register_admin_viewset")
def register_spreadsheet_imports():
    return SpreadsheetImportViewSet()


@hooks.register("register_log_actions")
def register_content_log_actions(actions):
    actions.register_action("carestar.import.succeed", _("Import spreadsheet"), _("Spreadsheet imported"))
