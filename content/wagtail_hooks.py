from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Clause, ServiceItem, Standard


class StandardViewSet(SnippetViewSet):
    model = Standard
    icon = "doc-full"
    menu_label = _("Standards")
    list_display = ["code", "title", "kind", "version", "effective_date"]
    list_filter = ["kind"]
    search_fields = ["code", "title"]


class ClauseViewSet(SnippetViewSet):
    model = Clause
    icon = "openquote"
    menu_label = _("Clauses")
    list_display = ["number", "title", "standard"]
    list_filter = ["standard"]
    search_fields = ["number", "title", "text"]


class ServiceItemViewSet(SnippetViewSet):
    model = ServiceItem
    icon = "list-ul"
    menu_label = _("Service items")
    list_display = ["code", "name", "category"]
    list_filter = ["category"]
    search_fields = ["code", "name"]


class CareStandardsGroup(SnippetViewSetGroup):
    menu_label = _("Care standards")
    menu_icon = "doc-full-inverse"
    items = (StandardViewSet, ClauseViewSet, ServiceItemViewSet)


register_snippet(CareStandardsGroup)
