import datetime
import hashlib

from django.utils import timezone

from certification.models import ServiceDataImport, ServiceIncident, ServiceMonth


def service_import(*, key: str = "manual") -> ServiceDataImport:
    batch, _created = ServiceDataImport.objects.get_or_create(
        batch_key=key,
        client=None,
        defaults={
            "source": ServiceDataImport.Source.SPREADSHEET,
            "payload_sha256": hashlib.sha256(key.encode()).hexdigest(),
        },
    )
    return batch


def service_month(caregiver, *, month: datetime.date, surveys: int, satisfied: int, hours="80") -> ServiceMonth:
    return ServiceMonth.objects.create(
        caregiver=caregiver,
        month=month,
        surveys=surveys,
        satisfied=satisfied,
        service_hours=hours,
        imported_in=service_import(),
    )


_references = iter(range(1, 10**9))


def incident(
    caregiver, *, kind=ServiceIncident.Kind.COMPLAINT, substantiated=True, occurred_on=None
) -> ServiceIncident:
    return ServiceIncident.objects.create(
        caregiver=caregiver,
        reference=f"INC-{next(_references):06d}",
        kind=kind,
        occurred_on=occurred_on or timezone.localdate() - datetime.timedelta(days=10),
        substantiated=substantiated,
        imported_in=service_import(),
    )
