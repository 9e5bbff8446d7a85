import tempfile
from urllib.parse import urlencode

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import FileResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import TwoFactorCodeForm
from .guards import caregiver_required
from .models import Role
from .two_factor import (
    NEW_RECOVERY_CODES_SESSION_KEY,
    recovery_code_display,
    totp_qr_svg,
    totp_secret_base32,
    two_factor_exempt,
    two_factor_failure_record,
    two_factor_required,
)


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
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)


# --- Second factor --------------------------------------------------------------------------------------------


def _next_url(request) -> str:
    """Where to go once the second factor is passed: `next` if it stays on this site, else the user's workspace."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed_hosts = {request.get_host()}
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=allowed_hosts, require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


@two_factor_exempt
@never_cache
@login_required
def two_factor_setup(request):
    """设置两步验证: scan the QR code (or type the secret) into an authenticator app, then enter its first code."""
    user = request.user
    if not two_factor_required(user):
        return redirect("accounts:home")
    next_url = _next_url(request)
    # Setting up a new app replaces the old one, so only a session that has passed the old one may do it.
    if not user.is_verified() and selectors.two_factor_device_confirmed(user=user) is not None:
        return redirect(_with_next("accounts:two_factor_verify", next_url))
    device = services.two_factor_device_pending(user=user)
    data = request.POST if request.method == "POST" else None
    form = TwoFactorCodeForm(user, data, device_for=lambda code: device)
    if request.method == "POST" and form.is_valid():
        codes = services.two_factor_device_confirm(device=device)
        django_otp.login(request, device)
        request.session[NEW_RECOVERY_CODES_SESSION_KEY] = codes
        return redirect(_with_next("accounts:two_factor_recovery_codes", next_url))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_svg": totp_qr_svg(device, title=_("QR code for your authenticator app")),
            "secret": totp_secret_base32(device),
            "issuer": settings.OTP_TOTP_ISSUER,
            "replacing": user.is_verified(),
        },
    )


@two_factor_exempt
@never_cache
@login_required
def two_factor_verify(request):
    """两步验证: the code the authenticator app shows, or a recovery code (each works once)."""
    user = request.user
    if not two_factor_required(user):
        return redirect("accounts:home")
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    device = selectors.two_factor_device_confirmed(user=user)
    if device is None:
        return redirect(_with_next("accounts:two_factor_setup", next_url))

    def device_for(code: str):
        # The app's codes are six digits; recovery codes are eight letters and digits.
        is_app_code = code.isdigit() and len(code) == device.digits
        return device if is_app_code else selectors.recovery_device(user=user)

    credentials = {"username": user.get_username()}
    if request.method == "POST" and AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return signin_locked_out(request, credentials)
    form = TwoFactorCodeForm(user, request.POST if request.method == "POST" else None, device_for=device_for)
    if request.method == "POST":
        if form.is_valid():
            django_otp.login(request, form.get_user().otp_device)
            return redirect(next_url)
        wrong = form.has_error(NON_FIELD_ERRORS, "invalid_token") or form.has_error(NON_FIELD_ERRORS, "device_required")
        if wrong and two_factor_failure_record(request=request, user=user):
            logout(request)
            return signin_locked_out(request, credentials)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def two_factor_recovery_codes(request):
    """The recovery codes just made, shown this once (they are not shown again: new ones can be made)."""
    codes = request.session.pop(NEW_RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("accounts:two_factor")
    return render(
        request,
        "accounts/two_factor_recovery_codes.html",
        {"codes": [recovery_code_display(code) for code in codes], "next": _next_url(request)},
    )


@never_cache
@login_required
def two_factor(request):
    """The user's second factor: their authenticator app, how many recovery codes are left, and new ones."""
    user = request.user
    if not two_factor_required(user):
        return redirect("accounts:home")
    return render(
        request,
        "accounts/two_factor.html",
        {
            "device": selectors.two_factor_device_confirmed(user=user),
            "recovery_codes_remaining": selectors.recovery_codes_remaining(user=user),
        },
    )


@require_POST
@login_required
def two_factor_recovery_codes_regenerate(request):
    if not two_factor_required(request.user):
        return redirect("accounts:home")
    request.session[NEW_RECOVERY_CODES_SESSION_KEY] = services.two_factor_recovery_codes_regenerate(user=request.user)
    return redirect("accounts:two_factor_recovery_codes")
