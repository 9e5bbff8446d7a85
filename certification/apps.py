from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")

    def ready(self):
        from wagtail.permissions import register_permission_policy

        from accounts.permissions import ReadOnlyPermissionPolicy

        from . import personal_data  # noqa: F401  (its part of the caregiver's own-data download)
        from .certificates import checks  # noqa: F401  (registers the PDF start-up checks)
        from .models import Appeal, Certificate, Evaluation

        for model in (Evaluation, Appeal, Certificate):
            register_permission_policy(model, ReadOnlyPermissionPolicy(model), exact_class=True)

        from .exams.permissions import register_policies
        from .servicedata.permissions import register_policies as register_service_data_policies

        register_policies()
        register_service_data_policies()
