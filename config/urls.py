from django.conf import settings
from django.http import Http404
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts.guards import site_history_for_administrators
from content.redirects import redirects_import_urls


def not_found(request):
    raise Http404


urlpatterns = [
    # Site history lists every object's changes: administrators only (a training body reads its own objects'
    # history on each object). Matched before Wagtail's own patterns for the same paths.
    *site_history_for_administrators(),
    # Wagtail's page that raises on purpose to try the error page: no page of the product answers with an error.
    path("admin/failwhale/", not_found),
    *redirects_import_urls(),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("content.urls")),
    path("", include("training.urls")),
    path("", include("certification.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
