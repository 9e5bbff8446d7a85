"""Reads for evaluations and certificates; exam and practical reads live in their own modules."""

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile, User

from .models import Certificate


def candidates_for_assessor(*, assessor: User, query: str = ""):
    """Caregivers this assessor may evaluate: never themselves, never staff of their own institution."""
    candidates = CaregiverProfile.objects.select_related("user", "institution__county").exclude(user=assessor)
    institution_id = getattr(getattr(assessor, "assessor_profile", None), "institution_id", None)
    if institution_id is not None:
        candidates = candidates.exclude(institution_id=institution_id)
    if query:
        candidates = candidates.filter(Q(user__name__icontains=query) | Q(institution__name__icontains=query))
    return candidates.order_by("user__name")


def certificate_public_record(*, certificate: Certificate) -> dict:
    """What anyone may learn of a certificate: what the certificate itself shows, and its status."""
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
        "is_valid": certificate.status == Certificate.Status.VALID,
        "pdf_sha256": certificate.pdf_sha256,
        "message": _("This certificate is valid.")
        if certificate.status == Certificate.Status.VALID
        else _("This certificate is NOT valid."),
    }
