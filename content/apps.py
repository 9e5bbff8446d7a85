from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Site content and care standards")

    def ready(self):
        from . import imports, personal_data  # noqa: F401  (register the importers, the own-data download's part)
        from .admin_display import register_display_classes
        from .exports import wagtail_exports_secure

        register_display_classes()
        wagtail_exports_secure()
