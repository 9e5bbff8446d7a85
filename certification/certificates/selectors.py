"""Reads for evaluations and certificates; exam and practical reads live in their own modules."""

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Certificate, CertificateTemplate, default_template


def certificate_public_record(*, certificate: Certificate) -> dict:
    """What anyone may learn of a certificate: what the certificate itself shows, and its status."""
    successor = getattr(certificate, "successor", None)
    return {
        "serial_number": certificate.serial_number,
        "holder_name": certificate.holder_name,
        "holder_national_id": certificate.holder_national_id_masked,
        "star_level": certificate.star_level,
        "issuer": certificate.issuer,
        "issued_on": certificate.issued_on.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "status": certificate.status,
        "status_label": str(Certificate.Status(certificate.status).label),
        # The day in Shanghai, as the verification page shows it: 07:30 there is still the day before in UTC.
        "status_changed_on": timezone.localdate(certificate.status_changed_at).isoformat()
        if certificate.status_changed_at
        else None,
        "status_reason": certificate.status_reason if certificate.status == Certificate.Status.REVOKED else None,
        "is_valid": certificate.is_valid,
        "superseded_by": successor.verify_url
        if successor and certificate.status == Certificate.Status.SUPERSEDED and successor.status != "pending"
        else None,
        "supersedes": certificate.predecessor.verify_url if certificate.predecessor_id else None,
        "pdf_sha256": certificate.pdf_sha256,
        "message": _("This certificate is valid.") if certificate.is_valid else _("This certificate is NOT valid."),
    }


def status_list_revoked_indexes(*, list_number: int) -> set[int]:
    """Indexes set in a status list: certificates no longer vouched for (revoked, or replaced by another)."""
    from .openbadges import STATUS_LIST_SIZE

    first = list_number * STATUS_LIST_SIZE
    indexes = Certificate.objects.filter(
        status_list_index__gte=first,
        status_list_index__lt=first + STATUS_LIST_SIZE,
        status__in=[Certificate.Status.REVOKED, Certificate.Status.SUPERSEDED],
    ).values_list("status_list_index", flat=True)
    return {index - first for index in indexes}


def certificate_batch_progress(*, batch) -> dict:
    """Issued, failed and pending items of a batch, in one query."""
    counted = _batches_with_counts().get(pk=batch.pk)
    pending = counted.total - counted.issued - counted.failed
    return {
        "total": counted.total,
        "issued": counted.issued,
        "failed": counted.failed,
        "pending": pending,
        "percent": round(100 * counted.issued / counted.total) if counted.total else 100,
        "done": pending == 0,
    }


def certificate_batches_with_progress(*, limit: int = 50):
    """The latest batches with their issued, failed and pending counts, in one query."""
    batches = _batches_with_counts().select_related("institution", "county", "created_by")[:limit]
    for batch in batches:
        batch.pending = batch.total - batch.issued - batch.failed
    return batches


def _batches_with_counts():
    from .models import CertificateBatch

    return CertificateBatch.objects.annotate(
        total=Count("items"),
        issued=Count("items", filter=Q(items__certificate__isnull=False)),
        failed=Count("items", filter=Q(items__certificate__isnull=True) & ~Q(items__error="")),
    )


def active_template() -> CertificateTemplate:
    """The template certificates are issued with: the one an administrator activated, else the built-in one."""
    return CertificateTemplate.objects.filter(is_active=True).first() or default_template()
