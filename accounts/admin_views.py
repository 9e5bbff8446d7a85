"""The caregiver admin's screens of its own: the audited reveal of a whole identity number."""

from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import services
from .guards import administrator_required
from .models import CaregiverProfile

REVEAL_URL_NAME = "caregiverprofile:national_id_reveal"


def national_id_reveal_url(caregiver: CaregiverProfile) -> str:
    return reverse(REVEAL_URL_NAME, args=[caregiver.pk])


@never_cache
@require_http_methods(["GET", "POST"])
def caregiver_national_id_reveal(request, pk: int):
    """GET asks (and shows only the masked number); POST records the reveal in the audit trail and shows it."""
    administrator_required(request)
    caregiver = get_object_or_404(CaregiverProfile.objects.select_related("user"), pk=pk)
    national_id = None
    if request.method == "POST":
        national_id = services.caregiver_national_id_reveal(caregiver=caregiver, actor=request.user)
    return TemplateResponse(
        request,
        "accounts/admin/national_id_reveal.html",
        {
            "caregiver": caregiver,
            "national_id": national_id,
            "page_title": _("Show the whole number"),
            "edit_url": reverse("caregiverprofile:edit", args=[caregiver.pk]),
            "history_url": reverse("caregiverprofile:history", args=[caregiver.pk]),
        },
    )
