from django.urls import path

from . import views

urlpatterns = [
    path("assess/", views.assessor_home, name="assessor_home"),
    path("assess/evaluations/<int:evaluation_id>/", views.evaluation_propose, name="evaluation_propose"),
    path("assess/evaluations/<int:evaluation_id>/review/", views.evaluation_review, name="evaluation_review"),
]
