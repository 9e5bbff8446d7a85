"""Start-up checks of the accounts app: OTP_REQUIRED_ROLES names roles that exist (a misspelt one would silently
require nothing), the audit log is kept long enough, and identity card numbers can be encrypted, read and found (the
keys are set and well formed)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .national_id_crypto import national_id_key_problems


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


# Network operators keep their logs at least six months (Cybersecurity Law of the PRC, Art. 21); 183 days is six
# months however they fall.
AUDIT_LOG_RETENTION_MINIMUM_DAYS = 183


@register()
def audit_log_retention_check(app_configs, **kwargs):
    days = settings.AUDIT_LOG_RETENTION_DAYS
    if not isinstance(days, int) or days < AUDIT_LOG_RETENTION_MINIMUM_DAYS:
        return [
            Error(
                f"AUDIT_LOG_RETENTION_DAYS is {days!r}: the audit log must be kept at least "
                f"{AUDIT_LOG_RETENTION_MINIMUM_DAYS} days (six months).",
                hint=f"Set AUDIT_LOG_RETENTION_DAYS to {AUDIT_LOG_RETENTION_MINIMUM_DAYS} or more (default 1095).",
                id="carestar.E006",
            )
        ]
    return []


@register(Tags.security)
def national_id_keys_check(app_configs, **kwargs):
    return [
        Error(
            problem,
            hint="Set NATIONAL_ID_KEYS and NATIONAL_ID_HASH_KEY (see README, Configuration).",
            id="carestar.E010",
        )
        for problem in national_id_key_problems()
    ]
