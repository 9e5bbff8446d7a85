"""Reads from the care-standards library for the public pages and the admin."""

from django.db.models import Prefetch, QuerySet

from .models import Clause, ImportJob, ServiceItem, Standard


def standards_live() -> QuerySet:
    return Standard.objects.filter(live=True).order_by("kind", "code")


def standard_with_clauses(*, standard_id: int) -> Standard | None:
    """A live standard with its live clauses in reading order, in two queries."""
    return (
        Standard.objects.filter(live=True, pk=standard_id)
        .select_related("document")
        .prefetch_related(
            Prefetch("clauses", queryset=Clause.objects.filter(live=True).order_by("sort_key"), to_attr="live_clauses")
        )
        .first()
    )


def service_items_by_category() -> list[tuple[str, list[ServiceItem]]]:
    items = ServiceItem.objects.filter(live=True).prefetch_related(
        Prefetch("clauses", queryset=Clause.objects.filter(live=True).select_related("standard"))
    )
    grouped: dict[str, list[ServiceItem]] = {}
    for item in items.order_by("category", "code"):
        grouped.setdefault(item.category, []).append(item)
    return [(label, grouped[value]) for value, label in ServiceItem.Category.choices if value in grouped]


def import_jobs_for(user, *, kind: str | None = None, target_id: int | None = None) -> QuerySet:
    """The imports a user may look at: administrators see every one, everyone else their own."""
    jobs = ImportJob.objects.select_related("standard", "created_by")
    if kind is not None:
        jobs = jobs.filter(kind=kind)
    if target_id is not None:
        jobs = jobs.filter(target_id=target_id)
    if getattr(user, "is_administrator", False):
        return jobs
    return jobs.filter(created_by=user)
