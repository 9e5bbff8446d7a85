from django.urls import path

from . import views
from .exams import urls as exam_urls
from .practicals import urls as practical_urls

app_name = "certification"

urlpatterns = [
    *exam_urls.urlpatterns,
    *practical_urls.urlpatterns,
    path("assess/", views.assessor_home, name="assessor_home"),
    path("assess/caregivers/<int:caregiver_id>/evaluate/", views.evaluation_new, name="evaluation_new"),
    path("me/certificates/<int:certificate_id>/pdf/", views.certificate_download, name="certificate_download"),
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:code>/", views.verify_detail, name="verify"),
    path("verify/<str:code>.json", views.verify_json, name="verify_json"),
]
