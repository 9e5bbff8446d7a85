"""Coverage reports in the Wagtail admin, exportable as CSV and XLSX. Each page is a handful of set-based
queries whatever the number of institutions, caregivers or clauses."""

import django_filters
from django.db.models import F
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn, StatusTagColumn
from wagtail.admin.views.reports import ReportView

from accounts.guards import AdministratorRequiredMixin
from accounts.models import County, Institution
from content.models import Clause, ServiceItem, Standard

from . import selectors


class AdministratorReportView(AdministratorRequiredMixin, ReportView):
    template_name = "training/admin/report.html"
    # Tabs linking the report's views: (url name, label).
    tabs: list[tuple[str, str]] = []

    @cached_property
    def permission_policy(self):
        return None

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["report_tabs"] = [
            {"url": reverse(name), "label": label, "active": name == self.index_url_name} for name, label in self.tabs
        ]
        return context


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- Training coverage ------------------------------------------------------------------------------------


TRAINING_TABS = [
    ("training_reports:coverage_institutions", _("By institution")),
    ("training_reports:coverage_counties", _("By county")),
]


class InstitutionCoverageFilterSet(WagtailFilterSet):
    county = django_filters.ModelChoiceFilter(
        label=_("County"), queryset=County.objects.all(), empty_label=_("All counties")
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Institution.Kind.choices, empty_label=_("All kinds"))

    class Meta:
        model = Institution
        fields = ["county", "kind"]


class TrainingCoverageMixin:
    """Shares of caregivers who have completed every required course."""

    tabs = TRAINING_TABS
    page_title = _("Training coverage")
    header_icon = "success"

    @cached_property
    def required_ids(self) -> list[int]:
        return selectors.required_course_ids()

    @property
    def orders_by_share(self) -> bool:
        return (self.ordering or "").lstrip("-") == "share"

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        from .models import CoursePage

        context["required_courses"] = list(CoursePage.objects.filter(pk__in=self.required_ids).order_by("title"))
        context["settings_url"] = reverse("wagtailsettings:edit", args=["training", "trainingsettings"])
        return context

    def decorate_paginated_queryset(self, object_list):
        for row in object_list:
            row.trained_percent = percent(row.caregivers_trained, row.caregivers_total)
        return object_list


SHARE_COLUMN_OPTIONS = {"sort_key": "share"}


class InstitutionCoverageView(TrainingCoverageMixin, AdministratorReportView):
    index_url_name = "training_reports:coverage_institutions"
    index_results_url_name = "training_reports:coverage_institutions_results"
    filterset_class = InstitutionCoverageFilterSet
    default_ordering = "county__code"
    columns = [
        Column("name", label=_("Institution"), sort_key="name"),
        Column("county", label=_("County"), sort_key="county__code"),
        Column("kind", label=_("Kind"), accessor="get_kind_display"),
        NumberColumn("caregivers_total", label=_("Caregivers"), sort_key="caregivers_total"),
        NumberColumn("caregivers_trained", label=_("Completed the required training"), sort_key="caregivers_trained"),
        Column("trained_percent", label=_("Share (%)"), **SHARE_COLUMN_OPTIONS),
    ]
    list_export = [
        "code",
        "name",
        "county.name",
        "kind_label",
        "caregivers_total",
        "caregivers_trained",
        "trained_percent",
    ]
    export_headings = {
        "code": _("Institution code"),
        "name": _("Institution"),
        "county.name": _("County"),
        "kind_label": _("Kind"),
        "caregivers_total": _("Caregivers"),
        "caregivers_trained": _("Completed the required training"),
        "trained_percent": _("Share (%)"),
    }

    def get_filename(self):
        return "培训覆盖率（按机构）"

    def get_base_queryset(self):
        return selectors.coverage_by_institution(
            required_ids=self.required_ids, order_by_share=self.orders_by_share, all_rows=self.is_export
        )

    def order_queryset(self, queryset):
        ordering = self.ordering or "county__code"
        field = ordering.lstrip("-")
        descending = ordering.startswith("-")
        if field == "share":
            order = F("share").desc(nulls_last=True) if descending else F("share").asc(nulls_last=True)
            return queryset.order_by(order, "name", "pk")
        return queryset.order_by(ordering, "name", "pk")

    def decorate_paginated_queryset(self, object_list):
        object_list = super().decorate_paginated_queryset(object_list)
        for row in object_list:
            row.kind_label = row.get_kind_display()
        return object_list


class CountyCoverageView(TrainingCoverageMixin, AdministratorReportView):
    index_url_name = "training_reports:coverage_counties"
    index_results_url_name = "training_reports:coverage_counties_results"
    default_ordering = "code"
    columns = [
        Column("name", label=_("County"), sort_key="name"),
        Column("code", label=_("Division code"), sort_key="code"),
        NumberColumn("institutions_total", label=_("Institutions")),
        NumberColumn("caregivers_total", label=_("Caregivers"), sort_key="caregivers_total"),
        NumberColumn("caregivers_trained", label=_("Completed the required training"), sort_key="caregivers_trained"),
        Column("trained_percent", label=_("Share (%)"), **SHARE_COLUMN_OPTIONS),
    ]
    list_export = ["code", "name", "institutions_total", "caregivers_total", "caregivers_trained", "trained_percent"]
    export_headings = {
        "code": _("Division code"),
        "name": _("County"),
        "institutions_total": _("Institutions"),
        "caregivers_total": _("Caregivers"),
        "caregivers_trained": _("Completed the required training"),
        "trained_percent": _("Share (%)"),
    }

    def get_filename(self):
        return "培训覆盖率（按区县）"

    def get_base_queryset(self):
        return selectors.coverage_by_county(required_ids=self.required_ids, order_by_share=self.orders_by_share)

    order_queryset = InstitutionCoverageView.order_queryset

    def decorate_paginated_queryset(self, object_list):
        object_list = super().decorate_paginated_queryset(object_list)
        institutions = selectors.institution_counts([county.pk for county in object_list])
        for county in object_list:
            county.institutions_total = institutions.get(county.pk, 0)
        return object_list


# --- Standards coverage -----------------------------------------------------------------------------------


STANDARDS_TABS = [
    ("training_reports:coverage_clauses", _("Clauses")),
    ("training_reports:coverage_service_items", _("Service items")),
]


class CoveredFilter(django_filters.ChoiceFilter):
    def __init__(self, **kwargs):
        super().__init__(
            label=_("Coverage"),
            choices=[("no", _("Not cited by any live course")), ("yes", _("Cited by a live course"))],
            empty_label=_("All"),
            **kwargs,
        )

    def filter(self, queryset, value):
        if value == "no":
            return queryset.filter(live_courses=0)
        if value == "yes":
            return queryset.filter(live_courses__gt=0)
        return queryset


class ClauseCoverageFilterSet(WagtailFilterSet):
    standard = django_filters.ModelChoiceFilter(
        label=_("Standard"), queryset=Standard.objects.filter(live=True), empty_label=_("All standards")
    )
    covered = CoveredFilter()

    class Meta:
        model = Clause
        fields = ["standard", "covered"]


class ServiceItemCoverageFilterSet(WagtailFilterSet):
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=ServiceItem.Category.choices, empty_label=_("All categories")
    )
    covered = CoveredFilter()

    class Meta:
        model = ServiceItem
        fields = ["category", "covered"]


class CitingCoursesColumn(Column):
    cell_template_name = "training/admin/citing_courses_cell.html"


def covered_label(row) -> str:
    return str(_("covered") if row.live_courses else _("not covered"))


class StandardsCoverageMixin:
    tabs = STANDARDS_TABS
    page_title = _("Standards coverage")
    header_icon = "doc-full"

    def decorate_paginated_queryset(self, object_list):
        for row in object_list:
            courses = []
            for citation in row.live_citations:
                if citation.course not in courses:
                    courses.append(citation.course)
            row.citing_courses = courses
            row.citing_titles = "；".join(course.title for course in courses)
            row.coverage = covered_label(row)
        return object_list


COVERAGE_STATUS = StatusTagColumn(
    "coverage", label=_("Coverage"), primary=lambda row: row.live_courses > 0, sort_key="live_courses"
)


class ClauseCoverageView(StandardsCoverageMixin, AdministratorReportView):
    index_url_name = "training_reports:coverage_clauses"
    index_results_url_name = "training_reports:coverage_clauses_results"
    filterset_class = ClauseCoverageFilterSet
    default_ordering = "standard__code"
    columns = [
        Column("standard", label=_("Standard"), accessor="standard.code", sort_key="standard__code"),
        Column("number", label=_("Clause"), accessor="number"),
        Column("title", label=_("Title")),
        COVERAGE_STATUS,
        NumberColumn("live_courses", label=_("Live courses")),
        CitingCoursesColumn("citing_courses", label=_("Cited by")),
    ]
    list_export = ["standard.code", "number", "title", "coverage", "live_courses", "citing_titles"]
    export_headings = {
        "standard.code": _("Standard"),
        "number": _("Clause"),
        "title": _("Title"),
        "coverage": _("Coverage"),
        "live_courses": _("Live courses"),
        "citing_titles": _("Cited by"),
    }

    def get_filename(self):
        return "标准条款覆盖情况"

    def get_base_queryset(self):
        return selectors.clause_coverage()

    def order_queryset(self, queryset):
        ordering = self.ordering or "standard__code"
        return queryset.order_by(ordering, "standard__code", "sort_key", "pk")


class ServiceItemCoverageView(StandardsCoverageMixin, AdministratorReportView):
    index_url_name = "training_reports:coverage_service_items"
    index_results_url_name = "training_reports:coverage_service_items_results"
    filterset_class = ServiceItemCoverageFilterSet
    default_ordering = "code"
    columns = [
        Column("code", label=_("Item code"), sort_key="code"),
        Column("name", label=_("Item name")),
        Column("category", label=_("Category"), accessor="get_category_display", sort_key="category"),
        COVERAGE_STATUS,
        NumberColumn("live_courses", label=_("Live courses")),
        CitingCoursesColumn("citing_courses", label=_("Cited by")),
    ]
    list_export = ["code", "name", "category_label", "coverage", "live_courses", "citing_titles"]
    export_headings = {
        "code": _("Item code"),
        "name": _("Item name"),
        "category_label": _("Category"),
        "coverage": _("Coverage"),
        "live_courses": _("Live courses"),
        "citing_titles": _("Cited by"),
    }

    def get_filename(self):
        return "服务项目覆盖情况"

    def get_base_queryset(self):
        return selectors.service_item_coverage()

    def order_queryset(self, queryset):
        return queryset.order_by(self.ordering or "code", "code", "pk")

    def decorate_paginated_queryset(self, object_list):
        object_list = super().decorate_paginated_queryset(object_list)
        for row in object_list:
            row.category_label = row.get_category_display()
        return object_list
