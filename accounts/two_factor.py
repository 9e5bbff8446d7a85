"""Who needs a second factor, and the small pieces its pages share.

The second factor is django-otp's: a TOTP authenticator app (TOTPDevice) with single-use recovery codes
(StaticDevice). A session is verified once `django_otp.login` has recorded the device that passed; OTPMiddleware
reads it back on each request as `request.user.otp_device` / `request.user.is_verified()`.
"""

import base64
import functools
import re

import segno
from django.conf import settings
from django.contrib.auth.signals import user_login_failed

RECOVERY_CODE_COUNT = 10
# The recovery codes made at enrolment or regeneration wait here for the one page that shows them.
NEW_RECOVERY_CODES_SESSION_KEY = "two_factor_new_recovery_codes"

_SEPARATORS = re.compile(r"[\s\-]+")


def two_factor_required(user) -> bool:
    """Superusers and the roles in OTP_REQUIRED_ROLES pass a second factor before they work."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.role in settings.OTP_REQUIRED_ROLES


def two_factor_exempt(view):
    """Mark a view that answers an unverified session as it would any other: the second-factor pages themselves,
    and machine endpoints that carry their own credential (a token) or serve public documents."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.two_factor_exempt = True
    return wrapped


def two_factor_code_normalize(code: str) -> str:
    """What the person typed, without the spaces and dashes codes are shown with; recovery codes are lower case."""
    return _SEPARATORS.sub("", code or "").lower()


def totp_secret_base32(device) -> str:
    """The device's secret as an authenticator app takes it typed in, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def totp_qr_svg(device, *, title: str) -> str:
    """The device's otpauth:// address as an inline SVG QR code, for the authenticator app to scan."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=4, light="#fff", title=title)


def recovery_code_display(code: str) -> str:
    return f"{code[:4]} {code[4:]}" if len(code) == 8 else code


def two_factor_failure_record(*, request, user) -> bool:
    """A wrong code counts toward the sign-in lockout as a wrong password does (django-axes listens to this
    signal); True when this failure locked the account out from this address."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return bool(getattr(request, "axes_locked_out", False))
