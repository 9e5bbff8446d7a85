from django.urls import path

from .certificates import views
from .evaluations import urls as evaluation_urls
from .exams import urls as exam_urls
from .practicals import urls as practical_urls
from .servicedata import urls as servicedata_urls

app_name = "certification"

urlpatterns = [
    *exam_urls.urlpatterns,
    *practical_urls.urlpatterns,
    *evaluation_urls.urlpatterns,
    *servicedata_urls.urlpatterns,
    path("me/certificates/<int:certificate_id>/pdf/", views.certificate_download, name="certificate_download"),
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/file/", views.verify_file, name="verify_file"),
    path("verify/<str:code>/", views.verify_detail, name="verify"),
    path("verify/<str:code>.json", views.verify_json, name="verify_json"),
    path("verify/<str:code>/badge/", views.ob_credential, name="ob_credential"),
    path("verify/<str:code>/photo/", views.verify_photo, name="verify_photo"),
    path("ob/issuer/", views.ob_issuer, name="ob_issuer"),
    path("ob/keys/<str:kid>/", views.ob_key, name="ob_key"),
    path("ob/achievements/star-<int:star_level>/", views.ob_achievement, name="ob_achievement"),
    path("ob/status/<int:list_number>/", views.ob_status_list, name="ob_status_list"),
]
