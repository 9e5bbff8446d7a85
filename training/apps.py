from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Training")

    def ready(self):
        from wagtail.permissions import register_permission_policy
        from wagtail.signals import page_published, page_unpublished, post_page_move

        # imports registers the roster importer, personal_data its part of the caregiver's own-data download
        from . import imports, personal_data, signals  # noqa: F401
        from .admin_views import TrainingBatchPermissionPolicy
        from .models import TrainingBatch

        register_permission_policy(TrainingBatch, TrainingBatchPermissionPolicy(TrainingBatch), exact_class=True)

        page_published.connect(signals.page_published_or_unpublished, dispatch_uid="training_citations_published")
        page_unpublished.connect(signals.page_published_or_unpublished, dispatch_uid="training_citations_unpublished")
        post_page_move.connect(signals.page_moved, dispatch_uid="training_citations_moved")
