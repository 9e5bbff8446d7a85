"""The only writer of service data: import batches (spreadsheet or API); rows are checked in validation.py and
client systems are kept in clients.py.

A batch is checked row by row before anything is written; one bad row rejects the batch and every problem is
reported with its row and field. A valid batch is written in one transaction: monthly figures are upserted by
(caregiver, month), incidents by the LTCI system's reference. A batch sent again changes nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import User

from .models import ServiceDataClient, ServiceDataImport, ServiceIncident, ServiceMonth
from .validation import BatchPlan, IncidentRow, ServiceDataConflict, batch_check, months_existing


@dataclass(frozen=True)
class ServiceDataOutcome:
    record: ServiceDataImport
    # False when the batch had been imported before: `record` is that earlier import and nothing was written.
    created: bool
    months_created: int = 0
    months_updated: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0
    downgrade_checks: int = 0


def _earlier_import(*, client: ServiceDataClient | None, batch_key: str) -> ServiceDataImport | None:
    imports = ServiceDataImport.objects.filter(batch_key=batch_key)
    imports = imports.filter(client=client) if client is not None else imports.filter(client__isnull=True)
    return imports.first()


def _resend(earlier: ServiceDataImport, payload_sha256: str) -> ServiceDataOutcome:
    if earlier.payload_sha256 != payload_sha256:
        raise ServiceDataConflict(earlier)
    return ServiceDataOutcome(record=earlier, created=False)


def _downgrade_cause(incidents: list[IncidentRow]) -> str:
    # The cause is kept on the downgrade decision the caregiver reads: in the site's language, not the sender's.
    with translation.override(settings.LANGUAGE_CODE):
        return "；".join(
            _("%(kind)s substantiated in the LTCI system's records: reference %(reference)s, occurred on %(date)s")
            % {
                "kind": ServiceIncident.Kind(row.kind).label,
                "reference": row.reference,
                "date": row.occurred_on.isoformat(),
            }
            for row in incidents
        )


def _substantiation_gained(plan: BatchPlan) -> dict[int, list[IncidentRow]]:
    """Per caregiver, the incidents this batch makes substantiated: new ones, or ones that were not before."""
    gained = defaultdict(list)
    for row in plan.incidents:
        existing = plan.existing_incidents.get(row.reference)
        if row.substantiated and (existing is None or not existing.substantiated or existing.kind != row.kind):
            gained[plan.caregivers[row.national_id]].append(row)
    return gained


def service_data_import(
    *,
    months: list[dict],
    incidents: list[dict],
    source: str,
    batch_key: str,
    payload_sha256: str,
    client: ServiceDataClient | None = None,
    uploaded_by: User | None = None,
    file_name: str = "",
    row_numbers: dict[str, list[int]] | None = None,
) -> ServiceDataOutcome:
    """Check and write one batch of service data, all or nothing.

    Raises ServiceDataRejected with every problem found, or ServiceDataConflict when the batch key was used
    for different content. A batch sent again (same key, same payload) returns the earlier import unchanged.
    After the commit, each caregiver who gained a substantiated complaint, liability accident or ethics breach
    is re-checked for a downgrade. `row_numbers` gives, per section, the numbers the sender knows its rows by
    (a spreadsheet's row numbers) for the messages; by default the first row is 1.
    """
    earlier = _earlier_import(client=client, batch_key=batch_key)
    if earlier is not None:
        return _resend(earlier, payload_sha256)

    plan = batch_check(months=months, incidents=incidents, batch_key=batch_key, row_numbers=row_numbers)
    caregivers = plan.caregivers
    pairs = {(caregivers[row.national_id], row.month) for row in plan.months}
    existing = months_existing(pairs)
    gained = _substantiation_gained(plan)
    try:
        with transaction.atomic():
            record = ServiceDataImport.objects.create(
                source=source,
                client=client,
                uploaded_by=uploaded_by,
                batch_key=batch_key,
                payload_sha256=payload_sha256,
                file_name=file_name[:200],
                months_written=len(plan.months),
                incidents_written=len(plan.incidents),
            )
            ServiceMonth.objects.bulk_create(
                [
                    ServiceMonth(
                        caregiver_id=caregivers[row.national_id],
                        month=row.month,
                        service_hours=row.service_hours,
                        surveys=row.surveys,
                        satisfied=row.satisfied,
                        imported_in=record,
                    )
                    for row in plan.months
                ],
                update_conflicts=True,
                unique_fields=["caregiver", "month"],
                update_fields=["service_hours", "surveys", "satisfied", "imported_in"],
            )
            # The caregiver is not among the updated fields: a reference never moves to another person.
            ServiceIncident.objects.bulk_create(
                [
                    ServiceIncident(
                        caregiver_id=caregivers[row.national_id],
                        reference=row.reference,
                        kind=row.kind,
                        occurred_on=row.occurred_on,
                        substantiated=row.substantiated,
                        summary=row.summary,
                        imported_in=record,
                    )
                    for row in plan.incidents
                ],
                update_conflicts=True,
                unique_fields=["reference"],
                update_fields=["kind", "occurred_on", "substantiated", "summary", "imported_in"],
            )
            outcome = ServiceDataOutcome(
                record=record,
                created=True,
                months_created=len(pairs - existing),
                months_updated=len(existing),
                incidents_created=len(plan.incidents) - len(plan.existing_incidents),
                incidents_updated=len(plan.existing_incidents),
                downgrade_checks=len(gained),
            )
            log(
                record,
                "carestar.servicedata.import",
                user=uploaded_by,
                data={
                    "source": source,
                    "client": client.name if client else None,
                    "file": file_name,
                    "months_created": outcome.months_created,
                    "months_updated": outcome.months_updated,
                    "incidents_created": outcome.incidents_created,
                    "incidents_updated": outcome.incidents_updated,
                    "substantiated": sorted(row.reference for rows in gained.values() for row in rows),
                },
            )
            from ..evaluations.tasks import service_data_downgrade_check_task

            for caregiver_id, rows in gained.items():
                transaction.on_commit(
                    partial(service_data_downgrade_check_task.delay, caregiver_id, _downgrade_cause(rows))
                )
    except IntegrityError:
        # Two senders raced with the same batch: the one that committed first wrote it.
        earlier = _earlier_import(client=client, batch_key=batch_key)
        if earlier is None:
            raise
        return _resend(earlier, payload_sha256)
    return outcome
