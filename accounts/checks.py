"""Start-up check: OTP_REQUIRED_ROLES names roles that exist (a misspelt one would silently require nothing)."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def otp_required_roles_check(app_configs, **kwargs):
    from .models import Role

    unknown = sorted(set(settings.OTP_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [
        Error(
            f"OTP_REQUIRED_ROLES names roles that do not exist: {', '.join(unknown)}.",
            hint=f"Use a comma-separated list of: {', '.join(Role.values)} (see README, Configuration).",
            id="accounts.E001",
        )
    ]
