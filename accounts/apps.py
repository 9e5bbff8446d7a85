from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and institutions")

    def ready(self):
        from wagtail.permissions import register_permission_policy

        from . import checks, middleware  # noqa: F401  (registers the start-up checks; connects the activity mark)
        from .models import AssessorProfile, CaregiverProfile
        from .permissions import NoAddPermissionPolicy

        for model in (CaregiverProfile, AssessorProfile):
            register_permission_policy(model, NoAddPermissionPolicy(model), exact_class=True)
