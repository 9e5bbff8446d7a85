import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .guards import caregiver_required
from .models import Role


@login_required
def home(request):
    """Send each role to where its work is."""
    user = request.user
    if user.has_role(Role.CAREGIVER) and hasattr(user, "caregiver_profile"):
        return redirect("training:my_learning")
    if user.has_role(Role.ASSESSOR):
        return redirect("certification:assessor_home")
    if user.has_perm("wagtailadmin.access_admin"):
        return redirect("wagtailadmin_home")
    return redirect("/")


@login_required
@require_GET
def my_data(request):
    """What the caregiver's own-data download holds (PIPL Art. 45), and the button that makes it."""
    caregiver = caregiver_required(request)
    return render(
        request,
        "accounts/my_data.html",
        {"caregiver": caregiver, "sections": selectors.personal_data_sections_all()},
    )


@login_required
@require_POST
def my_data_download(request):
    """One ZIP of everything held about the signed-in caregiver: their own, never anyone else's (no id asked)."""
    caregiver = caregiver_required(request)
    # In memory up to a few megabytes (a photo and some certificates), on disk beyond.
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    services.caregiver_personal_data_export(caregiver=caregiver, user=request.user, output=output)
    output.seek(0)
    filename = f"{_('My personal information')}-{timezone.localdate():%Y-%m-%d}.zip"
    # FileResponse names the file with Django's content_disposition_header: RFC 5987 filename* for Chinese names
    # (the helper content.exports.attachment wraps; this app sits below content).
    response = FileResponse(output, as_attachment=True, filename=filename, content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response


def signin_locked_out(request, credentials, *args, **kwargs):
    """django-axes' answer to a sign-in while its account and address are locked out: in words, with the wait."""
    from django.conf import settings

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)
