"""The audit log: kept at least six months (AUDIT_LOG_RETENTION_DAYS, purged daily by beat), never edited or
deleted from the admin, and not lost with the person it names."""

import datetime

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.pages.history import PageHistoryView
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.viewsets import viewsets
from wagtail.log_actions import log
from wagtail.models import BaseLogEntry, ModelLogEntry, Page, PageLogEntry
from wagtail.snippets.models import get_snippet_models

from accounts import services
from accounts.models import Role, User
from accounts.tasks import audit_log_purge_task
from tests.factories.accounts import CaregiverFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 6, 1, 12, 0))


def entry_aged(instance, days: float, *, user=None) -> ModelLogEntry:
    entry = log(instance, "wagtail.edit", user=user)
    ModelLogEntry.objects.filter(pk=entry.pk).update(timestamp=NOW - datetime.timedelta(days=days))
    return entry


def page_entry_aged(days: float) -> PageLogEntry:
    page = Page.objects.get(depth=1)
    entry = PageLogEntry.objects.log_action(page, "wagtail.edit")
    PageLogEntry.objects.filter(pk=entry.pk).update(timestamp=NOW - datetime.timedelta(days=days))
    return entry


def retention_errors() -> list[str]:
    return [message.id for message in run_checks() if message.id == "carestar.E006"]


# --- Retention ----------------------------------------------------------------------------------------------


def test_entries_are_kept_three_years_by_default_then_purged(caregiver):
    assert settings.AUDIT_LOG_RETENTION_DAYS == 1095
    kept = [entry_aged(caregiver, days) for days in (0, 182, 183, 400, 1094.9)]
    purged = [entry_aged(caregiver, days) for days in (1095.1, 1500, 4000)]
    old_page_entry = page_entry_aged(1096)
    recent_page_entry = page_entry_aged(30)

    assert services.audit_log_purge(now=NOW) == len(purged) + 1
    assert set(ModelLogEntry.objects.values_list("pk", flat=True)) == {entry.pk for entry in kept}
    assert not PageLogEntry.objects.filter(pk=old_page_entry.pk).exists()
    assert PageLogEntry.objects.filter(pk=recent_page_entry.pk).exists()
    assert services.audit_log_purge(now=NOW) == 0  # a second run finds nothing more


def test_at_the_shortest_retention_six_months_survive(settings, caregiver):
    settings.AUDIT_LOG_RETENTION_DAYS = 183
    six_months = entry_aged(caregiver, 182)
    day_before_cutoff = entry_aged(caregiver, 182.99)
    older = entry_aged(caregiver, 183.01)
    assert services.audit_log_purge(now=NOW) == 1
    assert set(ModelLogEntry.objects.values_list("pk", flat=True)) == {six_months.pk, day_before_cutoff.pk}
    assert not ModelLogEntry.objects.filter(pk=older.pk).exists()


def test_many_old_entries_are_purged_in_batches(settings, caregiver, monkeypatch):
    monkeypatch.setattr(services, "AUDIT_LOG_PURGE_BATCH", 3)
    for days in range(1100, 1110):
        entry_aged(caregiver, days)
    keep = entry_aged(caregiver, 10)
    assert services.audit_log_purge(now=NOW) == 10
    assert list(ModelLogEntry.objects.values_list("pk", flat=True)) == [keep.pk]


@pytest.mark.parametrize("days", [100, 182])
def test_a_retention_under_six_months_stops_start_up_and_purges_nothing(settings, caregiver, days):
    assert retention_errors() == []
    settings.AUDIT_LOG_RETENTION_DAYS = days
    assert retention_errors() == ["carestar.E006"]
    entry = entry_aged(caregiver, 150)
    with pytest.raises(ImproperlyConfigured):
        services.audit_log_purge(now=NOW)
    assert ModelLogEntry.objects.filter(pk=entry.pk).exists()


def test_six_months_passes_the_check(settings):
    settings.AUDIT_LOG_RETENTION_DAYS = 183
    assert retention_errors() == []


def test_beat_runs_the_purge_every_day(caregiver):
    [entry] = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == audit_log_purge_task.name]
    assert entry["schedule"] == 24 * 60 * 60
    stale = log(caregiver, "wagtail.edit")
    ModelLogEntry.objects.filter(pk=stale.pk).update(timestamp=timezone.now() - datetime.timedelta(days=2000))
    fresh = log(caregiver, "wagtail.edit")
    assert audit_log_purge_task.delay().get() == 1
    assert list(ModelLogEntry.objects.values_list("pk", flat=True)) == [fresh.pk]


# --- Nobody edits or deletes an entry in the admin ------------------------------------------------------------


LOG_MODELS = (ModelLogEntry, PageLogEntry)


def _views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_admin_screen_is_registered_for_log_entries():
    registered = {getattr(viewset, "model", None) for viewset in viewsets.viewsets}
    assert not registered & set(LOG_MODELS)
    assert not set(get_snippet_models()) & set(LOG_MODELS)
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    # No view anywhere is built on a log-entry model (an edit, delete or create form would be), and the views that
    # show entries (site history, each object's history) only answer GET.
    on_log_models, readers, model_views = [], [], 0
    for route, callback in _views(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None)
        model = getattr(callback, "view_initkwargs", {}).get("model") or getattr(view_class, "model", None)
        if isinstance(model, type) and issubclass(model, models.Model):
            model_views += 1
            if issubclass(model, BaseLogEntry):
                on_log_models.append(route)
        if view_class and issubclass(view_class, HistoryView | LogEntriesView | PageHistoryView):
            readers.append(route)
            assert not any(hasattr(view_class, method) for method in ("post", "put", "patch", "delete")), route
    assert on_log_models == []
    assert model_views > 100 and "admin/reports/site-history/" in readers  # the walk does see the admin's views
    assert any(route.startswith("admin/caregiverprofile/history/") for route in readers)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="root", password="pw", role=Role.ADMINISTRATOR)


def test_the_obvious_admin_addresses_cannot_change_an_entry(client, superuser, caregiver):
    entry = log(caregiver, "wagtail.edit", user=superuser, data={"note": "原始记录"})
    client.force_login(superuser)
    assert client.get("/admin/reports/site-history/").status_code == 200
    for url in [
        f"/admin/reports/site-history/{entry.pk}/",
        f"/admin/reports/site-history/{entry.pk}/edit/",
        f"/admin/reports/site-history/{entry.pk}/delete/",
        "/admin/snippets/wagtailcore/modellogentry/",
        f"/admin/snippets/wagtailcore/modellogentry/edit/{entry.pk}/",
        f"/admin/snippets/wagtailcore/modellogentry/delete/{entry.pk}/",
        "/admin/wagtailcore/modellogentry/",
        f"/admin/wagtailcore/modellogentry/{entry.pk}/change/",
        f"/admin/wagtailcore/modellogentry/{entry.pk}/delete/",
        "/admin/modellogentry/",
        "/admin/logentries/",
        "/django-admin/",
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"note": "改写"}).status_code in (403, 404, 405), url
    # The history screens are lists to read: a POST changes nothing.
    client.post("/admin/reports/site-history/", {"action": "wagtail.delete", "user": ""})
    entry.refresh_from_db()
    assert entry.data == {"note": "原始记录"} and entry.action == "wagtail.edit"
    assert ModelLogEntry.objects.filter(pk=entry.pk).count() == 1


# --- Deleting a person keeps the entries about them ------------------------------------------------------------


def test_the_log_entries_user_link_never_cascades():
    for model in LOG_MODELS:
        user_field = model._meta.get_field("user")
        assert user_field.remote_field.on_delete is models.DO_NOTHING and not user_field.db_constraint


def test_deleting_a_caregiver_in_the_admin_keeps_their_entries(client, superuser):
    caregiver = CaregiverFactory(user__name="王秀英")
    user_id, profile_id = caregiver.user_id, caregiver.pk
    about_them = log(caregiver, "wagtail.edit", user=superuser)
    by_them = log(caregiver.user, "wagtail.edit", user=caregiver.user)
    client.force_login(superuser)
    response = client.post(reverse("wagtailusers_users:delete", args=[user_id]))
    assert response.status_code == 302
    assert not User.objects.filter(pk=user_id).exists()

    assert ModelLogEntry.objects.filter(pk=about_them.pk, object_id=str(profile_id)).exists()
    assert ModelLogEntry.objects.filter(pk=by_them.pk, user_id=user_id).exists()
    # ... and the deletion itself is in the log, by whom.
    assert ModelLogEntry.objects.filter(action="wagtail.delete", object_id=str(user_id), user=superuser).exists()
    assert client.get("/admin/reports/site-history/").status_code == 200


def test_deleting_a_user_in_code_keeps_their_entries():
    user = UserFactory(role=Role.MANAGER)
    entry = log(user, "wagtail.edit", user=user)
    user_id = user.pk
    user.delete()
    kept = ModelLogEntry.objects.select_related("user").get(pk=entry.pk)
    assert kept.user_id == user_id and kept.user is None
