"""Start-up checks: refuse to run where identity card numbers could not be encrypted, read or found."""

from django.core.checks import Error, Tags, register

from .national_id_crypto import national_id_key_problems


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
