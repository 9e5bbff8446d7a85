from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet

from accounts.guards import AdministratorMenuItem

from . import admin_views, reports, selectors, services
from .models import LessonPage, TrainingBatch


class TrainingBatchViewSet(ModelViewSet):
    """Training bodies manage their own batches; administrators see every one."""

    model = TrainingBatch
    name = "training_batches"
    url_prefix = "training/batches"
    icon = "group"
    menu_label = _("Training batches")
    add_to_admin_menu = True
    menu_order = 210
    list_display = [
        "name",
        "course",
        "training_body",
        "starts_on",
        "ends_on",
        Column("members_count", label=_("On the roster")),
        admin_views.RosterLinkColumn("roster", label=""),
    ]
    list_filter = ["training_body"]
    search_fields = ["name", "place"]
    index_view_class = admin_views.BatchIndexView
    edit_view_class = admin_views.BatchEditView
    delete_view_class = admin_views.BatchDeleteView
    inspect_view_class = admin_views.BatchInspectView
    history_view_class = admin_views.BatchHistoryView
    usage_view_class = admin_views.BatchUsageView
    copy_view_enabled = False

    @property
    def edit_handler(self):
        return ObjectList(TrainingBatch.panels, base_form_class=admin_views.TrainingBatchForm)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("<int:pk>/roster/", admin_views.RosterView.as_view(), name="roster"),
            path("sessions/<int:session_pk>/attendance/", admin_views.AttendanceView.as_view(), name="attendance"),
        ]


@hooks.register("register_admin_viewset")
def register_training_batches():
    return TrainingBatchViewSet()


@hooks.register("register_admin_urls")
def register_report_urls():
    urls = [
        path("institutions/", reports.InstitutionCoverageView.as_view(), name="coverage_institutions"),
        path(
            "institutions/results/",
            reports.InstitutionCoverageView.as_view(results_only=True),
            name="coverage_institutions_results",
        ),
        path("counties/", reports.CountyCoverageView.as_view(), name="coverage_counties"),
        path(
            "counties/results/", reports.CountyCoverageView.as_view(results_only=True), name="coverage_counties_results"
        ),
        path("clauses/", reports.ClauseCoverageView.as_view(), name="coverage_clauses"),
        path(
            "clauses/results/", reports.ClauseCoverageView.as_view(results_only=True), name="coverage_clauses_results"
        ),
        path("service-items/", reports.ServiceItemCoverageView.as_view(), name="coverage_service_items"),
        path(
            "service-items/results/",
            reports.ServiceItemCoverageView.as_view(results_only=True),
            name="coverage_service_items_results",
        ),
    ]
    return [path("reports/coverage/", include((urls, "training_reports"), namespace="training_reports"))]


@hooks.register("register_reports_menu_item")
def register_training_coverage_menu_item():
    return AdministratorMenuItem(
        _("Training coverage"), reverse("training_reports:coverage_institutions"), icon_name="success", order=800
    )


@hooks.register("register_reports_menu_item")
def register_standards_coverage_menu_item():
    return AdministratorMenuItem(
        _("Standards coverage"), reverse("training_reports:coverage_clauses"), icon_name="doc-full", order=810
    )


@hooks.register("register_log_actions")
def register_training_log_actions(actions):
    actions.register_action("carestar.batch.roster_add", _("Add to roster"), _("Caregivers added to the roster"))
    actions.register_action(
        "carestar.batch.roster_remove", _("Remove from roster"), _("Caregiver taken off the roster")
    )
    actions.register_action("carestar.batch.attendance", _("Record attendance"), _("Attendance recorded"))


# Inside Wagtail's own checks (order 1 > its view restrictions' 0, and after the before_serve_page hooks that
# refuse other request methods): only a request that may see the lesson records a visit.
@hooks.register("on_serve_page", order=1)
def lessons_for_enrolled_learners(serve_page):
    """A lesson is for its course's learners (the course page explains how to enrol); serving it records the
    visit that the minimum study time counts from. Previews are not served through here."""

    def serve(page, request, serve_args, serve_kwargs):
        if isinstance(page, LessonPage):
            course = page.course
            enrollment = selectors.enrollment_for(user=request.user, course_id=course.pk)
            if enrollment is None:
                return redirect(course.url)
            page.enrollment = enrollment
            page.visit = services.lesson_visit_record(enrollment=enrollment, lesson=page)
        return serve_page(page, request, serve_args, serve_kwargs)

    return serve


@hooks.register("before_move_page")
def refuse_moves_the_user_may_not_make(request, page_to_move, destination):
    """Wagtail shows the move's confirmation, with the destination's title, before checking the move is allowed:
    a training body would read the titles of another body's courses. The check comes first here."""
    permissions = page_to_move.permissions_for_user(request.user)
    if not (permissions.can_move() and permissions.can_move_to(destination)):
        raise PermissionDenied
