from django.urls import path

from . import views

urlpatterns = [
    path("assess/practicals/", views.assessment_list, name="practical_list"),
    path("assess/practicals/<int:assessment_id>/", views.assessment_score, name="practical_score"),
]
