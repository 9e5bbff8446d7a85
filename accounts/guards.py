"""Who may open what: the guards every app's views and admin screens use, written once."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from wagtail.admin.menu import MenuItem

from .models import CaregiverProfile


def caregiver_for(user) -> CaregiverProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.caregiver_profile
    except CaregiverProfile.DoesNotExist:
        return None


def caregiver_required(request) -> CaregiverProfile:
    """The requesting caregiver, or 403 for anyone else: the guard of every caregiver page."""
    caregiver = caregiver_for(request.user)
    if caregiver is None:
        raise PermissionDenied(_("This page is for caregivers."))
    return caregiver


def administrator_required(request) -> None:
    """403 for anyone but the bureau's administrators: the guard of every administrators' screen."""
    if not getattr(request.user, "is_administrator", False):
        raise PermissionDenied


class AdministratorRequiredMixin:
    """administrator_required for a class-based view."""

    def dispatch(self, request, *args, **kwargs):
        administrator_required(request)
        return super().dispatch(request, *args, **kwargs)


class AdministratorMenuItem(MenuItem):
    """An admin menu entry shown to administrators only."""

    def is_shown(self, request):
        return getattr(request.user, "is_administrator", False)


def site_history_for_administrators() -> list:
    """URL patterns that put Wagtail's site history (page, results, CSV/XLSX export) behind administrator_required."""
    from django.urls import path
    from wagtail.admin.views.reports.audit_logging import LogEntriesView

    class AdministratorsLogEntriesView(AdministratorRequiredMixin, LogEntriesView):
        pass

    return [
        path("admin/reports/site-history/", AdministratorsLogEntriesView.as_view()),
        path("admin/reports/site-history/results/", AdministratorsLogEntriesView.as_view(results_only=True)),
    ]


def page_chooser_pages(pages, request):
    """What the page chooser offers a user who is not an administrator: live pages, and the pages of the subtree they
    edit; never another training body's draft (its title included)."""
    from django.db.models import Q
    from wagtail.permission_policies.pages import PagePermissionPolicy

    user = request.user
    if getattr(user, "is_administrator", False):
        return pages
    own = PagePermissionPolicy().instances_user_has_any_permission_for(user, {"add", "change", "publish"})
    return pages.filter(Q(live=True) | Q(pk__in=own.values("pk")))
